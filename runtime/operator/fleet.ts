// The operator's view and control of the worker fleet: workers and their slots, the deployment,
// deploy (replace it online), drain.
import { GROUP_NAME, GROUP_NAME_RULE } from "../abi.js";
import type { Db } from "../db/connect.js";
import type { DeploymentRow } from "../rows.js";
import { assignSlots, eligibleWorkers } from "../slots.js";
import { currentDeployment, deploy, listWorkers, requestDrain, type WorkerStatus } from "../sql/workers.js";
import { DEFAULT_GROUP } from "../settings.js";
import { OperatorError } from "./errors.js";
import type { DeploymentView, FleetView, WorkerState } from "./views.js";

function stateOf(w: WorkerStatus | undefined): WorkerState {
  if (!w) return "never seen";
  return w.stopped_at ? "stopped" : w.draining ? "draining" : w.alive ? "alive" : "dead";
}

/** Field by field: the row `deploy` returns also carries its statement's pg_notify() column. */
function deploymentOf(d: DeploymentRow): DeploymentRow {
  return { generation: d.generation, workers: d.workers, auto: d.auto, worker_group: d.worker_group, created_at: d.created_at };
}

/** Slot owners within one group: its deployment and its own live workers (migration 0011). */
function slotOwners(db: Db, d: DeploymentRow | null, rows: WorkerStatus[], group: string): (string | null)[] {
  return assignSlots(db.slotCount, eligibleWorkers(d, rows.filter((w) => w.worker_group === group && w.alive && !w.draining).map((w) => w.name)));
}

export async function fleet(db: Db): Promise<FleetView> {
  const rows = await listWorkers(db.pool);
  // Each group shares out all the slots among its own deployment.
  const groups = [...new Set([DEFAULT_GROUP, ...rows.map((w) => w.worker_group)])].sort();
  const found = await Promise.all(groups.map((g) => currentDeployment(db.pool, g)));
  const deployments = Object.fromEntries(groups.map((g, i) => [g, found[i] && deploymentOf(found[i])]));
  const owners = Object.fromEntries(groups.map((g) => [g, slotOwners(db, deployments[g], rows, g)]));
  const workers = rows.map((w) => ({
    ...w,
    group: w.worker_group,
    state: stateOf(w),
    slots: owners[w.worker_group].filter((o) => o === w.name).length,
    deployed: deployments[w.worker_group]?.workers.includes(w.name) ?? false,
  }));
  return { deployment: deployments[DEFAULT_GROUP], deployments, workers, owners: owners[DEFAULT_GROUP] };
}

export async function deploymentView(db: Db, group = DEFAULT_GROUP, given?: DeploymentRow): Promise<DeploymentView> {
  const [d, rows] = await Promise.all([given ?? currentDeployment(db.pool, group), listWorkers(db.pool)]);
  if (!d) return { deployment: null, workers: [] };
  const owners = slotOwners(db, d, rows, group);
  const workers = d.workers.map((name) => {
    const w = rows.find((x) => x.name === name);
    // A worker of another group named here owns none of this group's slots.
    const state: WorkerState = w && w.worker_group !== group ? "in another group" : stateOf(w);
    return { name, state, slots: owners.filter((o) => o === name).length };
  });
  return { deployment: deploymentOf(d), workers };
}

/** Replaces the deployment online with these workers (names deduplicated, order kept). */
export async function deployWorkers(db: Db, names: unknown, group: unknown = DEFAULT_GROUP): Promise<DeploymentView> {
  if (typeof group !== "string" || !GROUP_NAME.test(group)) throw new OperatorError(`group ${JSON.stringify(group)} is not a group name (${GROUP_NAME_RULE})`, "invalid");
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) throw new OperatorError("workers must be a list of worker names", "invalid");
  const unique = [...new Set((names as string[]).map((s) => s.trim()).filter(Boolean))];
  if (unique.length === 0) throw new OperatorError("a deployment needs at least one worker name", "invalid");
  return deploymentView(db, group, await deploy(db.pool, unique, group));
}

/**
 * Asks a live worker to drain: it claims nothing more, hands each running job over at its next
 * checkpoint (or leaves it suspended with `suspend`), releases the rest at the timeout, then
 * exits. Returns at once with the number of jobs it held; `fleet` tells when it has stopped.
 */
export async function drainWorker(db: Db, name: string, timeoutMs: number, suspend: boolean): Promise<{ held: number }> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new OperatorError("the drain timeout must be a positive duration", "invalid");
  if (!(await requestDrain(db.pool, name, timeoutMs, suspend))) {
    const known = (await listWorkers(db.pool)).filter((w) => w.alive).map((w) => w.name);
    throw new OperatorError(`no live worker ${name}${known.length ? ` (alive: ${known.join(", ")})` : " (no worker is alive)"}`, "not-found");
  }
  return { held: (await listWorkers(db.pool)).find((w) => w.name === name)?.running ?? 0 };
}

/** One worker's state now (null: never seen), for waiting on a drain. */
export async function workerState(db: Db, name: string): Promise<WorkerState> {
  return stateOf((await listWorkers(db.pool)).find((w) => w.name === name));
}
