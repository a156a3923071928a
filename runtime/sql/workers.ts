// Worker rows, heartbeats and deployment generations.
//
// Liveness is decided on the database clock only (RUNTIME.md promise 5): a worker is alive while
// `heartbeat_at > now() - timeout_ms`, it has not stopped, and it is not draining.
import type pg from "pg";
import { withTransaction } from "../db/tx.js";
import type { DeploymentRow, Queryable, WorkerRow } from "../rows.js";
import { DEFAULT_GROUP } from "../settings.js";

/**
 * Registers (or re-registers after a restart) a worker, alive as of now. Rows of workers that
 * stopped cleanly more than a day ago go (every `runbook run` adds one); history keeps names.
 */
export async function registerWorker(
  db: Queryable,
  w: { name: string; host: string; pid: number; concurrency: number; timeoutMs: number; group?: string },
): Promise<void> {
  await db.query("DELETE FROM workers WHERE stopped_at < now() - interval '1 day'");
  await db.query(
    `INSERT INTO workers (name, host, pid, concurrency, timeout_ms, worker_group)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, concurrency = excluded.concurrency,
       worker_group = excluded.worker_group,
       timeout_ms = excluded.timeout_ms, started_at = now(), heartbeat_at = now(), draining = false,
       drain_deadline = NULL, drain_suspend = false, stopped_at = NULL`,
    [w.name, w.host, w.pid, w.concurrency, w.timeoutMs, w.group ?? DEFAULT_GROUP],
  );
}

/** The live (fresh heartbeat, not stopped) worker of this name, if any: who holds the name now. */
export async function liveWorker(db: Queryable, name: string): Promise<{ host: string; pid: number; heartbeat_age_ms: number } | null> {
  const { rows } = await db.query<{ host: string; pid: number; heartbeat_age_ms: number }>(
    `SELECT host, pid, (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS heartbeat_age_ms FROM workers
     WHERE name = $1 AND stopped_at IS NULL AND heartbeat_at > now() - timeout_ms * interval '1 millisecond'`,
    [name],
  );
  return rows[0] ?? null;
}

export interface View {
  /** The current deployment generation (null: none yet). */
  deployment: DeploymentRow | null;
  /** Names of the workers alive now (fresh heartbeat, not stopped, not draining). */
  alive: string[];
  /** This worker's row as of now. */
  me: WorkerRow | null;
  /** Jobs (of the ones passed) whose lease is still this worker's (renewed, or renewed next time); the others are lost. */
  renewed: string[];
  /** Jobs whose lease this heartbeat actually extended (not skipped as locked, nor as having over half its length left). */
  extended: string[];
  /** Milliseconds left before this worker's drain deadline (null: not draining). */
  drainLeftMs: number | null;
}

/**
 * One heartbeat: renews the worker's row and the leases of the jobs it runs in one statement
 * (RUNTIME.md: "renewing their workers' row and all their jobs' leases in one statement"), and
 * reads the deployment and who is alive, to recompute slot ownership.
 */
export async function heartbeat(
  db: Queryable,
  name: string,
  held: { id: string; epoch: string }[],
  leaseMs: number,
  /** Leases with less than this left are extended, the others left as they are (renewWithinMs). */
  renewWithin: number = leaseMs / 2,
): Promise<View> {
  const { rows } = await db.query<{ me: WorkerRow | null; renewed: string[]; extended: string[]; deployment: DeploymentRow | null; alive: string[]; drain_left_ms: number | null }>(
    `WITH me AS (
       UPDATE workers SET heartbeat_at = now() WHERE name = $1 RETURNING *
     ), held AS (
       SELECT j.id FROM jobs j JOIN unnest($2::text[], $3::bigint[]) AS h(id, epoch)
         ON j.id = h.id AND j.lease_epoch = h.epoch AND j.status = 'running'
     ), locked AS (
       -- A row locked right now is being written by this very worker (a checkpoint, a batch of
       -- completions): skip its renewal this time rather than wait. Waiting here deadlocked with
       -- multi-row completion batches (seen as 1 s stalls, the deadlock_timeout, in
       -- bench/runtime.ts). It is still ours (in held), and the next heartbeat renews it.
       -- Status and epoch are tested HERE, on the row version the lock returns, not only in
       -- \`held\`: \`held\` reads this statement's snapshot, and a completion or park that commits
       -- after it was taken would otherwise get a fresh due_at and be claimed again (issue 9: 3
       -- of 2,000 completed jobs re-ran). FOR UPDATE re-evaluates these conditions on the newest
       -- version of the row (READ COMMITTED), so an ended or parked job is left out.
       -- Only leases with less than $5 ms left are extended (settings.ts renewWithinMs): a worker
       -- holds up to a claim batch (1,000) of jobs, most for well under a lease, and renewing
       -- every one at every beat was a non-HOT update of each (due_at is indexed) for nothing.
       SELECT j.id FROM jobs j JOIN unnest($2::text[], $3::bigint[]) AS h(id, epoch)
         ON j.id = h.id AND j.lease_epoch = h.epoch AND j.status = 'running'
       WHERE j.due_at < now() + $5 * interval '1 millisecond'
       ORDER BY j.id FOR UPDATE OF j SKIP LOCKED
     ), renewed AS (
       UPDATE jobs j SET due_at = now() + $4 * interval '1 millisecond' FROM locked
       WHERE j.id = locked.id AND j.status = 'running'
       RETURNING j.id
     )
     SELECT (SELECT row_to_json(me) FROM me) AS me,
            ARRAY(SELECT id FROM held) AS renewed,
            ARRAY(SELECT id FROM renewed) AS extended,
            -- The worker's own group: its deployment and its live peers (migration 0011).
            (SELECT row_to_json(d) FROM (SELECT * FROM deployments WHERE worker_group = (SELECT worker_group FROM me)
                                         ORDER BY worker_group, generation DESC LIMIT 1) d) AS deployment,
            ARRAY(SELECT name FROM workers
                  WHERE stopped_at IS NULL AND NOT draining AND worker_group = (SELECT worker_group FROM me)
                    AND (name = $1 OR heartbeat_at > now() - timeout_ms * interval '1 millisecond')
                  ORDER BY name) AS alive,
            (SELECT greatest(0, extract(epoch FROM drain_deadline - now()) * 1000)::float8 FROM me WHERE draining) AS drain_left_ms`,
    [name, held.map((h) => h.id), held.map((h) => h.epoch), leaseMs, renewWithin],
  );
  const r = rows[0];
  // row_to_json gives timestamps as strings; callers only compare names and generations.
  const me = r.me ? { ...r.me, heartbeat_at: new Date(r.me.heartbeat_at) } : null;
  const alive = me && (me.draining || me.stopped_at) ? r.alive.filter((n) => n !== name) : r.alive;
  return {
    me,
    renewed: r.renewed,
    extended: r.extended,
    deployment: r.deployment && { ...r.deployment, generation: String(r.deployment.generation) },
    alive,
    drainLeftMs: r.drain_left_ms,
  };
}

/** Renews one lease, fenced by its epoch; false when it is no longer this holder's. */
export async function renewLease(db: Queryable, id: string, epoch: string, leaseMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE jobs SET due_at = now() + $3 * interval '1 millisecond' WHERE id = $1 AND lease_epoch = $2 AND status = 'running'",
    [id, epoch, leaseMs],
  );
  return rowCount === 1;
}

/**
 * A worker joins the deployment when none names it, as long as deployments are automatic (made
 * by workers joining, the single-machine default): a new generation of the live named workers
 * plus this one. An explicit deployment (`runbook deploy --workers`) is left alone: a worker it
 * does not name owns no slots until a deploy names it. Returns the deployment in force.
 */
export async function joinDeployment(
  pool: pg.Pool,
  name: string,
  /** Join only when no worker of the deployment is alive (`runbook run`'s in-process worker). */
  onlyIfAlone = false,
): Promise<{ deployment: DeploymentRow; joined: boolean; alive: string[] }> {
  return withTransaction(pool, async (client) => {
    // One joiner at a time, so two workers starting together both end up named.
    await client.query("SELECT pg_advisory_xact_lock(7243002)");
    const group = (await client.query<{ worker_group: string }>("SELECT worker_group FROM workers WHERE name = $1", [name])).rows[0]?.worker_group ?? DEFAULT_GROUP;
    const current = await currentDeployment(client, group);
    const alive = current
      ? (
          await client.query<{ name: string }>(
            `SELECT name FROM workers WHERE name = ANY($1::text[]) AND name <> $2 AND stopped_at IS NULL AND NOT draining
               AND heartbeat_at > now() - timeout_ms * interval '1 millisecond' ORDER BY name`,
            [current.workers, name],
          )
        ).rows.map((r) => r.name)
      : [];
    if (current && (!current.auto || current.workers.includes(name) || (onlyIfAlone && alive.length > 0))) {
      return { deployment: current, joined: false, alive };
    }
    const { rows } = await client.query<DeploymentRow>(
      `INSERT INTO deployments (workers, auto, worker_group)
       SELECT ARRAY(SELECT DISTINCT n FROM unnest($1::text[] || ARRAY[$2::text]) AS n
                    WHERE n = $2 OR EXISTS (SELECT 1 FROM workers w WHERE w.name = n AND w.stopped_at IS NULL
                                             AND w.heartbeat_at > now() - w.timeout_ms * interval '1 millisecond')
                    ORDER BY n), true, $3
       RETURNING *`,
      [current?.workers ?? [], name, group],
    );
    await client.query("SELECT pg_notify('runbook', 'deploy')");
    return { deployment: rows[0], joined: true, alive };
  });
}

/** A new explicit generation of a group with exactly these workers (`runbook deploy --workers`). */
export async function deploy(db: Queryable, workers: string[], group = DEFAULT_GROUP): Promise<DeploymentRow> {
  const { rows } = await db.query<DeploymentRow>(
    `WITH d AS (INSERT INTO deployments (workers, auto, worker_group) VALUES ($1, false, $2) RETURNING *)
     SELECT d.*, pg_notify('runbook', 'deploy') FROM d`,
    [workers, group],
  );
  return rows[0];
}

/** The deployment in force for a group: its newest generation (null: none yet). */
export async function currentDeployment(db: Queryable, group = DEFAULT_GROUP): Promise<DeploymentRow | null> {
  const { rows } = await db.query<DeploymentRow>(
    "SELECT * FROM deployments WHERE worker_group = $1 ORDER BY worker_group, generation DESC LIMIT 1",
    [group],
  );
  return rows[0] ?? null;
}

/**
 * Asks a worker to drain: it claims nothing more and hands its running jobs over at their next
 * checkpoint (or leaves them suspended); at the deadline the rest are released. It stops
 * counting as alive at once, so the others take its slots. Returns false when no live worker
 * has that name.
 */
export async function requestDrain(db: Queryable, name: string, timeoutMs: number, suspend: boolean): Promise<boolean> {
  const { rows } = await db.query(
    `WITH w AS (
       UPDATE workers SET draining = true, drain_deadline = now() + $2 * interval '1 millisecond', drain_suspend = $3
       WHERE name = $1 AND stopped_at IS NULL AND heartbeat_at > now() - timeout_ms * interval '1 millisecond'
       RETURNING name
     )
     SELECT name, pg_notify('runbook', 'drain:' || name), pg_notify('runbook', 'deploy') FROM w`,
    [name, timeoutMs, suspend],
  );
  return rows.length === 1;
}

/** A clean exit: the worker stops counting as alive at once, and the others are told. */
export async function markStopped(db: Queryable, name: string): Promise<void> {
  await db.query("UPDATE workers SET stopped_at = now() WHERE name = $1", [name]);
  await db.query("SELECT pg_notify('runbook', 'deploy')");
}

export interface WorkerStatus extends WorkerRow {
  alive: boolean;
  heartbeat_age_ms: number;
  running: number;
}

export async function listWorkers(db: Queryable): Promise<WorkerStatus[]> {
  const { rows } = await db.query<WorkerStatus>(
    `SELECT w.*,
            (w.stopped_at IS NULL AND w.heartbeat_at > now() - w.timeout_ms * interval '1 millisecond') AS alive,
            (extract(epoch FROM now() - w.heartbeat_at) * 1000)::float8 AS heartbeat_age_ms,
            -- A running job always has a due time (its lease expiry): jobs_claimable serves this.
            (SELECT count(*) FROM jobs j WHERE j.due_at IS NOT NULL AND j.worker = w.name AND j.status = 'running')::int AS running
     FROM workers w ORDER BY w.name`,
  );
  return rows;
}
