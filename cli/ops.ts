// Operations on the worker deployment: `runbook workers`, `runbook deploy`, `runbook drain`.
import type { Db } from "../runtime/db/connect.js";
import type { DeploymentRow } from "../runtime/rows.js";
import { assignSlots, eligibleWorkers } from "../runtime/slots.js";
import { currentDeployment, deploy as deployWorkers, listWorkers, requestDrain } from "../runtime/sql/workers.js";
import { CliError } from "./errors.js";
import { parseDuration } from "./params.js";
import { printJson, withDb } from "./jobs.js";

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

/** What `runbook deploy` shows: the deployment and, for each of its workers, its state and slots. */
async function deploymentView(db: Db, given?: DeploymentRow): Promise<{ deployment: DeploymentRow | null; workers: { name: string; state: string; slots: number }[] }> {
  const [d, rows] = await Promise.all([given ?? currentDeployment(db.pool), listWorkers(db.pool)]);
  if (!d) return { deployment: null, workers: [] };
  // Field by field: the row `deploy` returns also carries its statement's pg_notify() column.
  const deployment: DeploymentRow = { generation: d.generation, workers: d.workers, auto: d.auto, created_at: d.created_at };
  const live = rows.filter((w) => w.alive && !w.draining).map((w) => w.name);
  const owners = assignSlots(db.slotCount, eligibleWorkers(d, live));
  const workers = d.workers.map((name) => {
    const w = rows.find((x) => x.name === name);
    const state = !w ? "never seen" : w.stopped_at ? "stopped" : w.draining ? "draining" : w.alive ? "alive" : "dead";
    return { name, state, slots: owners.filter((o) => o === name).length };
  });
  return { deployment, workers };
}

export async function deploy(opts: { workers?: string; json?: boolean }): Promise<void> {
  await withDb(async (db) => {
    if (opts.workers === undefined) {
      const view = await deploymentView(db);
      if (opts.json) {
        printJson(view);
        return;
      }
      const d = view.deployment;
      if (!d) {
        process.stdout.write("no deployment yet (the first worker to start makes one)\n");
        return;
      }
      process.stdout.write(`generation ${d.generation}${d.auto ? " (automatic)" : ""}\n`);
      for (const w of view.workers) process.stdout.write(`  ${w.name}: ${w.state}, ${w.slots} slots\n`);
      return;
    }
    const names = [...new Set(opts.workers.split(",").map((s) => s.trim()).filter(Boolean))];
    if (names.length === 0) throw new CliError("--workers needs at least one worker name", 2);
    const d = await deployWorkers(db.pool, names);
    const view = await deploymentView(db, d);
    if (opts.json) printJson(view);
    else process.stdout.write(`deployment generation ${d.generation}: ${d.workers.join(", ")}\n`);
    // A typo here would leave slots to nobody: say which names own nothing yet.
    const idle = view.workers.filter((w) => w.state !== "alive" && names.includes(w.name));
    for (const w of idle) {
      process.stderr.write(`warning: ${w.name} is not a live worker (${w.state}); it owns no slots until \`runbook worker --name ${w.name}\` runs\n`);
    }
    if (idle.length === names.length) process.stderr.write("warning: no worker of this deployment is alive: no job runs until one starts\n");
  });
}

/**
 * `runbook drain NAME [--timeout D] [--suspend]`: the worker claims nothing more, hands each
 * running job over at its next checkpoint (queued for the slot's next owner, or left suspended),
 * releases the rest from their latest checkpoint at the timeout, and exits 0. This command waits
 * until it has stopped.
 */
export async function drain(name: string, opts: { timeout: string; suspend?: boolean }): Promise<void> {
  const timeoutMs = parseDuration(opts.timeout);
  if (timeoutMs === null) throw new CliError(`--timeout ${opts.timeout} is not a duration (write it like 30s, 10m or 1h)`, 2);
  await withDb(async (db) => {
    if (!(await requestDrain(db.pool, name, timeoutMs, opts.suspend ?? false))) {
      const known = (await listWorkers(db.pool)).filter((w) => w.alive).map((w) => w.name);
      throw new CliError(`no live worker ${name}${known.length ? ` (alive: ${known.join(", ")})` : " (no worker is alive)"}`, 1);
    }
    const held = (await listWorkers(db.pool)).find((w) => w.name === name)?.running ?? 0;
    process.stdout.write(`draining ${name}: ${held} running job${held === 1 ? "" : "s"} ${opts.suspend ? "suspend" : "hand over"} at their next checkpoint (timeout ${opts.timeout})\n`);
    // Wait for it to stop, or to die (its heartbeat runs out).
    for (;;) {
      const w = (await listWorkers(db.pool)).find((x) => x.name === name);
      if (!w || w.stopped_at) break;
      if (!w.alive) {
        process.stdout.write(`${name} stopped heartbeating before it finished draining; its jobs resume elsewhere when their leases expire\n`);
        process.exitCode = 1;
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    process.stdout.write(`${name} has drained and stopped\n`);
  });
}
