// Parking a running job: it stops running here and waits in the queue for something (a timer,
// a signal, a child job, an operator, the next owner of its slot). One statement, fenced by the
// lease epoch, writing the state (if new), the stream records, the park fields and a history row.
//
// An operator's pending suspend or stop (jobs.control) wins over the requested status: the job
// goes to `suspended` or `stopped` instead, and the control is cleared.
import type { JobState } from "../abi.js";
import type { JobStatus, Queryable } from "../rows.js";
import { encodeJson } from "../json-text.js";
import { recordsText, type NumberedRecord } from "./checkpoint.js";

export interface ParkWrite {
  id: string;
  epoch: string;
  worker: string;
  /** New checkpoint, or null to keep the latest one. */
  state: JobState | null;
  label: string | null;
  records: NumberedRecord[];
  consumeSignal: string | null;
  /** `running` keeps the lease: a checkpoint that also records what the job waits on. */
  status: Extract<JobStatus, "running" | "queued" | "sleeping" | "waiting" | "suspended">;
  waitSignal: string | null;
  awaitJob: string | null;
  /** Sleep length or wait timeout from now (database clock); null: none. */
  untilMs: number | null;
  /** Keep the stored wait_until (re-parking a job woken early). */
  keepUntil: boolean;
  reason: string;
}

export interface Parked {
  status: JobStatus;
  /** The operator control that took effect, if any. */
  control: "suspend" | "stop" | null;
}

/** Returns null when the lease was lost. */
export async function parkJob(db: Queryable, p: ParkWrite): Promise<Parked | null> {
  const records = recordsText(p.records); // before the state, as in checkpoint.ts
  const state = p.state === null ? null : encodeJson(p.state, "the job's state");
  const { rows } = await db.query<Parked>({
    name: "runbook_park",
    text: `WITH old AS (
       SELECT control FROM jobs WHERE id = $1 AND lease_epoch = $2 AND status = 'running' FOR UPDATE
     ), until AS (
       SELECT CASE WHEN $12::boolean THEN (SELECT wait_until FROM jobs WHERE id = $1)
                   WHEN $11::float8 IS NULL THEN NULL
                   ELSE now() + $11::float8 * interval '1 millisecond' END AS at
     ), j AS (
       UPDATE jobs SET
         state = coalesce($3::json, jobs.state),
         checkpoint_label = CASE WHEN $3::json IS NULL THEN jobs.checkpoint_label ELSE $4 END,
         checkpoint_at = CASE WHEN $3::json IS NULL THEN jobs.checkpoint_at ELSE now() END,
         checkpoints = jobs.checkpoints + CASE WHEN $3::json IS NULL THEN 0 ELSE 1 END,
         stream_seq = jobs.stream_seq + $5,
         wait_signal = $8, await_job = $9, wait_until = until.at,
         status = CASE old.control WHEN 'stop' THEN 'stopped' WHEN 'suspend' THEN 'suspended' ELSE $7::text END,
         due_at = CASE WHEN old.control IS NOT NULL THEN NULL
                       WHEN $7::text = 'running' THEN jobs.due_at
                       WHEN $7::text = 'queued' THEN now()
                       WHEN $7::text IN ('sleeping', 'waiting') THEN until.at
                       ELSE NULL END,
         finished_at = CASE WHEN old.control = 'stop' THEN now() END,
         control = NULL,
         updated_at = now()
       FROM old, until
       WHERE jobs.id = $1
       RETURNING jobs.status, old.control
     ), streams AS (
       INSERT INTO job_streams (job_id, seq, stream, value)
       SELECT $1, r.seq, r.stream, r.value::json FROM j, json_to_recordset($6::json) AS r(seq int, stream text, value text)
     ), consumed AS (
       UPDATE signals SET consumed_at = now() WHERE id = $10 AND EXISTS (SELECT 1 FROM j)
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
       SELECT $1, 'running', j.status, $13,
              CASE j.control WHEN 'stop' THEN 'stopped by operator' WHEN 'suspend' THEN 'suspended by operator' ELSE $14 END
       FROM j WHERE j.status <> 'running'
     )
     SELECT status, control FROM j`,
    values: [
      p.id,
      p.epoch,
      state,
      p.label,
      p.records.length,
      records,
      p.status,
      p.waitSignal,
      p.awaitJob,
      p.consumeSignal,
      p.untilMs,
      p.keepUntil,
      p.worker,
      p.reason,
    ],
  });
  return rows[0] ?? null;
}

/** Locks the job's row if the lease is still ours (inside a transaction); false: lost. */
export async function lockLeased(db: Queryable, id: string, epoch: string): Promise<boolean> {
  const { rowCount } = await db.query("SELECT 1 FROM jobs WHERE id = $1 AND lease_epoch = $2 AND status = 'running' FOR UPDATE", [id, epoch]);
  return rowCount === 1;
}

/** The first unconsumed signal of that name in the job's mailbox. */
export async function peekSignal(db: Queryable, jobId: string, name: string): Promise<{ id: string; payload: unknown } | null> {
  const { rows } = await db.query<{ id: string; payload: unknown }>(
    "SELECT id, payload FROM signals WHERE job_id = $1 AND name = $2 AND consumed_at IS NULL ORDER BY id LIMIT 1",
    [jobId, name],
  );
  return rows[0] ?? null;
}

/** Marks a received signal consumed (inside the fenced transaction that received it). */
export async function consumeSignal(db: Queryable, signalId: string): Promise<void> {
  await db.query("UPDATE signals SET consumed_at = now() WHERE id = $1", [signalId]);
}

/**
 * Marks the awaited job (its final write then wakes its waiters) and reads its ending, under the
 * row lock this takes: a job finishing at this moment either commits first (we see it ended) or
 * waits for our park to commit and then sees `awaited` and wakes us. See docs/runtime.md.
 */
export async function markAwaited(db: Queryable, id: string): Promise<{ status: JobStatus; result: unknown; error: unknown } | null> {
  const { rows } = await db.query<{ status: JobStatus; result: unknown; error: unknown }>(
    "UPDATE jobs SET awaited = true WHERE id = $1 RETURNING status, result, error",
    [id],
  );
  return rows[0] ?? null;
}

/** The awaited job's ending, read without a lock (a claimed job checking whether it may go on). */
export async function awaitedJob(db: Queryable, id: string): Promise<{ status: JobStatus; result: unknown; error: unknown } | null> {
  const { rows } = await db.query<{ status: JobStatus; result: unknown; error: unknown }>("SELECT status, result, error FROM jobs WHERE id = $1", [id]);
  return rows[0] ?? null;
}

/**
 * Gives a running job back to the queue without a new checkpoint (drain timeout, worker stop):
 * it continues from its latest checkpoint on whichever worker owns its slot. The epoch is bumped
 * so a write of ours still in flight is refused.
 */
/**
 * `releaseLease` of many jobs in one statement (a stopping worker's claimed jobs that never
 * started: up to a claim batch of them). Each is fenced by its own epoch; returns the ids released.
 */
export async function releaseLeases(db: Queryable, jobs: { id: string; epoch: string }[], worker: string, reason: string): Promise<string[]> {
  if (jobs.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `WITH j AS (
       UPDATE jobs SET status = 'queued', due_at = now(), lease_epoch = lease_epoch + 1, updated_at = now()
       FROM unnest($1::text[], $2::bigint[]) AS x(id, epoch)
       WHERE jobs.id = x.id AND jobs.lease_epoch = x.epoch AND jobs.status = 'running'
       RETURNING jobs.id
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason) SELECT id, 'running', 'queued', $3, $4 FROM j
     )
     SELECT id, pg_notify('runbook', 'jobs') FROM j`,
    [jobs.map((j) => j.id), jobs.map((j) => j.epoch), worker, reason],
  );
  return rows.map((r) => r.id);
}

export async function releaseLease(db: Queryable, id: string, epoch: string, worker: string, reason: string): Promise<boolean> {
  const { rows } = await db.query(
    `WITH j AS (
       UPDATE jobs SET status = 'queued', due_at = now(), lease_epoch = lease_epoch + 1, updated_at = now()
       WHERE id = $1 AND lease_epoch = $2 AND status = 'running'
       RETURNING id
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason) SELECT id, 'running', 'queued', $3, $4 FROM j
     )
     SELECT id, pg_notify('runbook', 'jobs') FROM j`,
    [id, epoch, worker, reason],
  );
  return rows.length === 1;
}
