// Creating jobs. One NOTIFY per enqueue batch: RUNTIME.md, "NOTIFY takes a global lock at commit
// (a ceiling of a few hundred notifying commits per second has been measured elsewhere), so ...
// enqueues notify once per batch, not once per job". Postgres folds identical notifications of
// one transaction into one, so notifying per inserted row below still sends one.
import type { JobState, Json } from "../abi.js";
import { encodeJson } from "../json-text.js";
import type { JobRow, Queryable } from "../rows.js";

export const CHANNEL = "runbook";

export interface NewJob {
  id: string;
  runbook: string;
  version: string;
  params: Record<string, Json>;
  /** The worker group (default: the runbook's declared group, else `default`). */
  group?: string;
  /** Higher first among due jobs of the same slot (default 0). */
  priority?: number;
  /** A schedule's tick this job is for (0009): at most one job per tick, whatever its id. */
  schedule?: { name: string; tick: Date };
}

/**
 * Inserts jobs as `queued`, due now. The group, concurrency key and limit come from
 * runbook_placement() (migration 0011), which every job-creating statement calls: the key is
 * computed in the database, the same way however the job is created. A job under a key is
 * inserted with no due time; the insert's trigger gives it a place (and a due time) if one is free. A job whose id exists already is left as it is (so `start
 * --id KEY` is idempotent); returns the ids actually inserted.
 */
export async function insertJobs(db: Queryable, jobs: NewJob[], reason: string): Promise<string[]> {
  // Named, so each connection plans it once: planning was 0.35 of a single job's 1.08 ms
  // enqueue (EXPLAIN ANALYZE), on the path of every `runbook start`. The plan does not depend on
  // the parameters (the input is a JSON document, estimated at 100 rows whatever it holds).
  const { rows } = await db.query<{ id: string }>({
    name: "runbook_enqueue",
    text: `WITH input AS (
       -- params arrive as their stored text (see recordsText in checkpoint.ts), cast to json here.
       SELECT * FROM json_to_recordset($1::json) AS x(id text, runbook text, version text, params text, "group" text, priority integer, schedule text, schedule_tick timestamptz)
     ), inserted AS (
       INSERT INTO jobs (id, runbook, version, slot, status, params, due_at, worker_group, priority, concurrency_key, concurrency_limit, schedule, schedule_tick)
       SELECT x.id, x.runbook, x.version, runbook_slot(x.id), 'queued', x.params::json, CASE WHEN p.concurrency_key IS NULL THEN now() END,
              coalesce(x."group", p.declared_group, 'default'), coalesce(x.priority, 0), p.concurrency_key, p.concurrency_limit, x.schedule, x.schedule_tick
       FROM input x LEFT JOIN LATERAL runbook_placement(x.version, x.runbook, x.params::json) p ON true
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, reason)
       SELECT id, NULL, 'queued', $2 FROM inserted
     )
     SELECT id, pg_notify('${CHANNEL}', 'jobs') FROM inserted`,
    values: [JSON.stringify(jobs.map((j) => ({ id: j.id, runbook: j.runbook, version: j.version, params: encodeJson(j.params, "the job's parameters"), group: j.group ?? null, priority: j.priority ?? null, schedule: j.schedule?.name ?? null, schedule_tick: j.schedule?.tick ?? null }))), reason],
  });
  return rows.map((r) => r.id);
}

/**
 * `start NAME(args)` inside a job: the child runs on its parent's version, in the child runbook's
 * declared group, else its parent's, with its parent's priority. Fenced by the
 * parent's lease; idempotent by id (PARENT/SEQ, the same on a re-run from the same checkpoint).
 * Returns "lost" when the parent's lease is gone. `state`: the child's first state, when its
 * arguments hold a sealed secret (runner.ts); otherwise it starts from its parameters.
 */
export async function insertChildJob(
  db: Queryable,
  parent: { id: string; epoch: string; worker: string },
  child: { id: string; runbook: string; params: Record<string, Json>; state?: JobState },
): Promise<"inserted" | "exists" | "lost"> {
  // Named, as insertJobs: planning was 0.42 ms of a child start's 0.69 ms of server time.
  const { rows } = await db.query<{ fenced: boolean; inserted: number }>({
    name: "runbook_enqueue_child",
    text: `WITH parent AS (
       SELECT version, worker_group, priority FROM jobs WHERE id = $1 AND lease_epoch = $2 AND status = 'running'
     ), inserted AS (
       INSERT INTO jobs (id, runbook, version, parent_id, slot, status, params, state, due_at, worker_group, priority, concurrency_key, concurrency_limit)
       SELECT $3, $4, parent.version, $1, runbook_slot($3), 'queued', $5, $7, CASE WHEN p.concurrency_key IS NULL THEN now() END,
              coalesce(p.declared_group, parent.worker_group), parent.priority, p.concurrency_key, p.concurrency_limit
       FROM parent LEFT JOIN LATERAL runbook_placement(parent.version, $4, $5::json) p ON true
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
       SELECT id, NULL, 'queued', $6, 'started by job ' || $1 FROM inserted
     ), notified AS (
       SELECT pg_notify('${CHANNEL}', 'jobs') FROM inserted
     )
     SELECT EXISTS (SELECT 1 FROM parent) AS fenced, (SELECT count(*) FROM notified)::int AS inserted`,
    values: [parent.id, parent.epoch, child.id, child.runbook, encodeJson(child.params, "the child job's parameters"), parent.worker, child.state ? encodeJson(child.state, "the child job's state") : null],
  });
  if (!rows[0].fenced) return "lost";
  return rows[0].inserted > 0 ? "inserted" : "exists";
}

export async function getJob(db: Queryable, id: string): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>("SELECT * FROM jobs WHERE id = $1", [id]);
  return rows[0] ?? null;
}
