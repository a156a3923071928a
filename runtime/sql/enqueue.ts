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
}

/**
 * Inserts jobs as `queued`, due now. A job whose id exists already is left as it is (so `start
 * --id KEY` is idempotent); returns the ids actually inserted.
 */
export async function insertJobs(db: Queryable, jobs: NewJob[], reason: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH input AS (
       -- params arrive as their stored text (see recordsText in checkpoint.ts), cast to json here.
       SELECT * FROM json_to_recordset($1::json) AS x(id text, runbook text, version text, params text)
     ), inserted AS (
       INSERT INTO jobs (id, runbook, version, slot, status, params, due_at)
       SELECT id, runbook, version, runbook_slot(id), 'queued', params::json, now() FROM input
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, reason)
       SELECT id, NULL, 'queued', $2 FROM inserted
     )
     SELECT id, pg_notify('${CHANNEL}', 'jobs') FROM inserted`,
    [JSON.stringify(jobs.map((j) => ({ id: j.id, runbook: j.runbook, version: j.version, params: encodeJson(j.params, "the job's parameters") }))), reason],
  );
  return rows.map((r) => r.id);
}

/**
 * `start NAME(args)` inside a job: the child runs on its parent's version. Fenced by the
 * parent's lease; idempotent by id (PARENT/SEQ, the same on a re-run from the same checkpoint).
 * Returns "lost" when the parent's lease is gone. `state`: the child's first state, when its
 * arguments hold a sealed secret (runner.ts); otherwise it starts from its parameters.
 */
export async function insertChildJob(
  db: Queryable,
  parent: { id: string; epoch: string; worker: string },
  child: { id: string; runbook: string; params: Record<string, Json>; state?: JobState },
): Promise<"inserted" | "exists" | "lost"> {
  const { rows } = await db.query<{ fenced: boolean; inserted: number }>(
    `WITH parent AS (
       SELECT version FROM jobs WHERE id = $1 AND lease_epoch = $2 AND status = 'running'
     ), inserted AS (
       INSERT INTO jobs (id, runbook, version, parent_id, slot, status, params, state, due_at)
       SELECT $3, $4, parent.version, $1, runbook_slot($3), 'queued', $5, $7, now() FROM parent
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
       SELECT id, NULL, 'queued', $6, 'started by job ' || $1 FROM inserted
     ), notified AS (
       SELECT pg_notify('${CHANNEL}', 'jobs') FROM inserted
     )
     SELECT EXISTS (SELECT 1 FROM parent) AS fenced, (SELECT count(*) FROM notified)::int AS inserted`,
    [parent.id, parent.epoch, child.id, child.runbook, encodeJson(child.params, "the child job's parameters"), parent.worker, child.state ? encodeJson(child.state, "the child job's state") : null],
  );
  if (!rows[0].fenced) return "lost";
  return rows[0].inserted > 0 ? "inserted" : "exists";
}

export async function getJob(db: Queryable, id: string): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>("SELECT * FROM jobs WHERE id = $1", [id]);
  return rows[0] ?? null;
}
