// Operations on the worker deployment: `runbook workers`, `runbook deploy`, `runbook drain`.
// Parse, call the operator API, print.
import { parseDuration } from "../runtime/params.js";
import { DEFAULT_GROUP } from "../runtime/settings.js";
import { CliError } from "./errors.js";
import { humanDuration } from "./human-time.js";
import { printJson, printLine, printTable, printWarning } from "./print.js";
import { checkGroup } from "./placement.js";
import { withOperator } from "./session.js";

export async function workers(opts: { json?: boolean }): Promise<void> {
  await withOperator(async (op) => {
    const { deployment, deployments, workers: rows } = await op.fleet();
    if (opts.json) {
      printJson({ deployment, deployments, workers: rows.map(({ state: _, ...w }) => w) });
      return;
    }
    for (const [group, d] of Object.entries(deployments)) {
      const label = group === DEFAULT_GROUP ? "deployment" : `group ${group}: deployment`;
      if (d) printLine(`${label} generation ${d.generation}${d.auto ? " (automatic)" : ""}: ${d.workers.join(", ")}`);
      else if (group === DEFAULT_GROUP) printLine("no deployment yet (the first worker to start makes one)");
      else printLine(`${label}: none yet`);
    }
    if (rows.length === 0) {
      printLine("no workers");
      return;
    }
    // GROUP last: the columns scripts read by position keep their places.
    printTable(
      ["NAME", "STATE", "HEARTBEAT", "SLOTS", "RUNNING", "CONCURRENCY", "HOST:PID", "GROUP"],
      rows.map((w) => [w.name, w.state, humanDuration(w.heartbeat_age_ms), String(w.slots), String(w.running), String(w.concurrency), `${w.host}:${w.pid}`, w.group]),
    );
  });
}

export async function deploy(opts: { workers?: string; group?: string; json?: boolean }): Promise<void> {
  const group = checkGroup(opts.group);
  const named = group === DEFAULT_GROUP ? "" : `group ${group}: `;
  await withOperator(async (op) => {
    if (opts.workers === undefined) {
      const view = await op.deployment(group);
      if (opts.json) {
        printJson(view);
        return;
      }
      const d = view.deployment;
      if (!d) {
        printLine(`${named}no deployment yet (the first worker to start makes one)`);
        return;
      }
      printLine(`${named}generation ${d.generation}${d.auto ? " (automatic)" : ""}`);
      for (const w of view.workers) printLine(`  ${w.name}: ${w.state}, ${w.slots} slots`);
      return;
    }
    const names = opts.workers.split(",").map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new CliError("--workers needs at least one worker name", 2);
    const view = await op.deploy(names, group);
    const d = view.deployment!;
    if (opts.json) printJson(view);
    else printLine(`${named}deployment generation ${d.generation}: ${d.workers.join(", ")}`);
    // A typo here would leave slots to nobody: say which names own nothing yet.
    const idle = view.workers.filter((w) => w.state !== "alive");
    for (const w of idle) {
      printWarning(
        w.state === "in another group"
          ? `${w.name} serves another group; it owns no slots of group ${group}`
          : `${w.name} is not a live worker (${w.state}); it owns no slots until \`runbook worker --name ${w.name}${named ? ` --group ${group}` : ""}\` runs`,
      );
    }
    if (idle.length === view.workers.length) printWarning("no worker of this deployment is alive: no job runs until one starts");
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
  await withOperator(async (op) => {
    const { held } = await op.drain(name, timeoutMs, opts.suspend ?? false);
    printLine(`draining ${name}: ${held} running job${held === 1 ? "" : "s"} ${opts.suspend ? "suspend" : "hand over"} at their next checkpoint (timeout ${opts.timeout})`);
    // Wait for it to stop, or to die (its heartbeat runs out).
    for (;;) {
      const state = await op.workerState(name);
      if (state === "stopped" || state === "never seen") break;
      if (state === "dead") {
        printLine(`${name} stopped heartbeating before it finished draining; its jobs resume elsewhere when their leases expire`);
        process.exitCode = 1;
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    printLine(`${name} has drained and stopped`);
  });
}
