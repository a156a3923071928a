// Operations on the worker deployment: `runbook workers`, `runbook deploy`, `runbook drain`.
import { assignSlots, eligibleWorkers } from "../runtime/slots.js";
import { currentDeployment, deploy as deployWorkers, listWorkers } from "../runtime/sql/workers.js";
import { CliError } from "./errors.js";
import { withDb } from "./jobs.js";

export async function workers(opts: { json?: boolean }): Promise<void> {
  await withDb(async (db) => {
    const [rows, deployment] = await Promise.all([listWorkers(db.pool), currentDeployment(db.pool)]);
    const eligible = eligibleWorkers(deployment, rows.filter((w) => w.alive && !w.draining).map((w) => w.name));
    const owners = assignSlots(db.slotCount, eligible);
    const slots = (name: string) => owners.filter((o) => o === name).length;
    if (opts.json) {
      const out = rows.map((w) => ({ ...w, slots: slots(w.name), deployed: deployment?.workers.includes(w.name) ?? false }));
      process.stdout.write(`${JSON.stringify({ deployment, workers: out }, null, 2)}\n`);
      return;
    }
    if (deployment) process.stdout.write(`deployment generation ${deployment.generation}${deployment.auto ? " (automatic)" : ""}: ${deployment.workers.join(", ")}\n`);
    else process.stdout.write("no deployment yet (the first worker to start makes one)\n");
    if (rows.length === 0) {
      process.stdout.write("no workers\n");
      return;
    }
    const table = rows.map((w) => [
      w.name,
      w.stopped_at ? "stopped" : w.draining ? "draining" : w.alive ? "alive" : "dead",
      `${(w.heartbeat_age_ms / 1000).toFixed(1)}s`,
      String(slots(w.name)),
      String(w.running),
      String(w.concurrency),
      `${w.host}:${w.pid}`,
    ]);
    const head = ["NAME", "STATE", "HEARTBEAT", "SLOTS", "RUNNING", "CONCURRENCY", "HOST:PID"];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
    for (const r of [head, ...table]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()}\n`);
  });
}

export async function deploy(opts: { workers?: string }): Promise<void> {
  await withDb(async (db) => {
    if (opts.workers === undefined) {
      const d = await currentDeployment(db.pool);
      process.stdout.write(d ? `generation ${d.generation}${d.auto ? " (automatic)" : ""}: ${d.workers.join(", ")}\n` : "no deployment yet\n");
      return;
    }
    const names = [...new Set(opts.workers.split(",").map((s) => s.trim()).filter(Boolean))];
    if (names.length === 0) throw new CliError("--workers needs at least one worker name", 2);
    const d = await deployWorkers(db.pool, names);
    process.stdout.write(`deployment generation ${d.generation}: ${d.workers.join(", ")}\n`);
  });
}

export async function drain(name: string, _opts: { timeout: string; suspend?: boolean }): Promise<void> {
  throw new CliError(`runbook drain is not implemented yet (issue 5); stop worker ${name} with SIGTERM to hand its jobs over at their next checkpoint`, 1);
}
