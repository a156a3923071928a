// Final statuses, batched: RUNTIME.md, "claims and completions should be batched (the '2' in
// jobs/s = writes/s / (2 + checkpoints per job) can approach 0)". Each job of the batch is still
// fenced by its own lease epoch; a job whose epoch no longer matches is left out (and so are its
// stream records), and reported lost.
import type { ErrorRecord, Json } from "../abi.js";
import type { Queryable } from "../rows.js";
import { encodeJson } from "../json-text.js";
import { batchRecordsAndSignals, recordsText, type NumberedRecord } from "./checkpoint.js";

export interface Completion {
  id: string;
  epoch: string;
  status: "completed" | "failed" | "stopped";
  result: Json | null;
  error: ErrorRecord | null;
  records: NumberedRecord[];
  consumeSignal: string | null;
  reason: string;
}

/**
 * Writes the batch in one statement; returns the ids written (the others were lost) and those
 * some job awaits (to wake with `wakeAwaiters`).
 */
export async function completeJobs(db: Queryable, worker: string, batch: Completion[]): Promise<{ written: Set<string>; awaited: string[] }> {
  return writeCompletions(db, worker, batch.map(encodeCompletion));
}

/** A completion as the statement reads it: its values already in their stored text. */
export interface EncodedCompletion {
  id: string;
  epoch: string;
  status: Completion["status"];
  result: string | null;
  error: string | null;
  /** recordsText of its records. */
  records: string;
  n: number;
  signal: string | null;
  reason: string;
}

/**
 * Encodes a completion's values (runtime/json-text.ts); throws UnstorableValue. The batcher
 * encodes each job's completion as it is added, so a value that cannot be stored fails that
 * job alone, not the batch it would have joined.
 */
export function encodeCompletion(c: Completion): EncodedCompletion {
  const records = recordsText(c.records); // first, as in checkpoint.ts
  return {
    id: c.id,
    epoch: c.epoch,
    status: c.status,
    result: c.result === null ? null : encodeJson(c.result, "the job's result"),
    error: c.error === null ? null : encodeJson(c.error, "the job's error"),
    records,
    n: c.records.length,
    signal: c.consumeSignal,
    reason: c.reason,
  };
}

// The rules every final write shares, written once for both statements below.
/** An operator's stop pending on a job that failed (its activity was aborted) ends it stopped. */
const finalStatus = (asked: string) => `CASE WHEN j.control = 'stop' AND ${asked} = 'failed' THEN 'stopped' ELSE ${asked} END`;
/** What an ended job no longer has: a due time, a pending control, a wait. */
const ENDED = `due_at = NULL, finished_at = now(), updated_at = now(), control = NULL, wait_signal = NULL, await_job = NULL, wait_until = NULL`;
/** The fence: the lease epoch of the claim, on a job still running. */
const FENCED = (id: string, epoch: string) => `j.id = ${id} AND j.lease_epoch = ${epoch} AND j.status = 'running'`;
/** Its history row (from `done`): the asked status's reason, or the operator's stop. */
const historyRow = (asked: string, reason: string) => `CASE WHEN d.status = ${asked} THEN ${reason} ELSE 'stopped by operator' END`;
/**
 * A completion writes no history row: finished_at and worker in the job row say it (migration
 * 0008). A failure or a stop keeps its row, with its reason; so does the completion of a job
 * another one awaits (a child, a parallel-for branch): the history then orders it against the
 * awaiter's wake-up and the next branch's start by row id.
 */
const HISTORY_WHEN = `d.status <> 'completed' OR d.awaited`;

/**
 * `completeJobs` of completions already encoded, in at most two statements. First the quiet
 * ones: a job that completed with nothing else to write (no records, no signal), and that no
 * other job awaits, needs no history row, so it ends with a plain fenced UPDATE (`writeQuiet`).
 * Then the rest, and any quiet one that UPDATE did not write (awaited meanwhile, or its lease
 * lost), through the statement that writes history rows, records and signals (`writeOne` for one
 * job with none of those, else `writeBatch`), which also finds a lost lease lost.
 *
 * Measured (embedded PostgreSQL 17, one connection, server CPU per statement): the history CTE
 * costs the server its locks and index opening even when it inserts no row. A single-row
 * completion went 203 -> 187 us without it; a completion of two jobs costs 483-494 us through
 * the batch statement and 393-438 us through the quiet one.
 */
export async function writeCompletions(db: Queryable, worker: string, input: EncodedCompletion[]): Promise<{ written: Set<string>; awaited: string[] }> {
  const quiet = input.filter((c) => c.status === "completed" && c.n === 0 && c.signal === null);
  const written = new Set(quiet.length === 0 ? [] : await writeQuiet(db, quiet));
  const rest = written.size === 0 ? input : input.filter((c) => !written.has(c.id));
  const rows = rest.length === 0 ? [] : rest.length === 1 && rest[0].n === 0 && rest[0].signal === null ? await writeOne(db, worker, rest[0]) : await writeBatch(db, worker, rest);
  for (const r of rows) written.add(r.id);
  return { written, awaited: rows.filter((r) => r.awaited).map((r) => r.id) };
}

/**
 * Quiet completions (see `writeCompletions`); returns the ids written. `NOT j.awaited` is tested
 * on the row the UPDATE locks, so a job marked awaited before this statement reaches it (park.ts
 * `markAwaited` locks the row) is left to the next statement; one marked after finds it ended,
 * as with the other statements. A completed status is never rewritten (`finalStatus` changes
 * only a failure). One job takes plain parameters, more take the batch's JSON input.
 */
async function writeQuiet(db: Queryable, quiet: EncodedCompletion[]): Promise<string[]> {
  if (quiet.length === 1) {
    const c = quiet[0];
    const { rowCount } = await db.query({
      name: "runbook_complete_quiet",
      text: `UPDATE jobs j SET status = 'completed', result = $3::json, error = $4::json, ${ENDED}
         WHERE ${FENCED("$1", "$2")} AND NOT j.awaited`,
      values: [c.id, c.epoch, c.result, c.error],
    });
    return rowCount === 1 ? [c.id] : [];
  }
  const { rows } = await db.query<{ id: string }>({
    name: "runbook_complete_quiet_batch",
    text: `WITH input AS (
       SELECT * FROM json_to_recordset($1::json) AS x(id text, epoch bigint, result text, error text)
     )
     UPDATE jobs j SET status = 'completed', result = x.result::json, error = x.error::json, ${ENDED}
     FROM input x
     -- The id list: see writeBatch.
     WHERE ${FENCED("x.id", "x.epoch")} AND NOT j.awaited AND j.id = ANY (ARRAY(SELECT id FROM input))
     RETURNING j.id`,
    values: [JSON.stringify(quiet.map((c) => ({ id: c.id, epoch: c.epoch, result: c.result, error: c.error })))],
  });
  return rows.map((r) => r.id);
}

/**
 * One job with no records and no signal to consume that is not quiet (it failed or stopped, or
 * another job awaits it): the same write as `writeBatch` with plain parameters. Measured
 * (ten-checkpoint jobs, whose completion batches hold one or two jobs, embedded PostgreSQL 17):
 * the batch statement cost the server ~0.45 ms more per job than a single-row UPDATE, and this
 * statement saved ~0.3 ms of it (server CPU per job 2.16-2.26 -> 1.82-1.89 ms).
 */
async function writeOne(db: Queryable, worker: string, c: EncodedCompletion): Promise<{ id: string; awaited: boolean }[]> {
  const { rows } = await db.query<{ id: string; awaited: boolean }>({
    name: "runbook_complete_one",
    text: `WITH done AS (
       UPDATE jobs j SET status = ${finalStatus("$3")}, result = $4::json, error = $5::json, ${ENDED}
       WHERE ${FENCED("$1", "$2")}
       RETURNING j.id, j.awaited, j.status
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
       SELECT d.id, 'running', d.status, $6, ${historyRow("$3", "$7")}
       FROM done d
       WHERE ${HISTORY_WHEN}
     )
     SELECT id, awaited FROM done`,
    values: [c.id, c.epoch, c.status, c.result, c.error, worker, c.reason],
  });
  return rows;
}

async function writeBatch(db: Queryable, worker: string, input: EncodedCompletion[]): Promise<{ id: string; awaited: boolean }[]> {
  const { rows } = await db.query<{ id: string; awaited: boolean }>({
    name: "runbook_complete",
    text: `WITH input AS (
       -- Values arrive as text inside the JSON (see recordsText) and are cast to json here.
       SELECT * FROM json_to_recordset($1::json)
         AS x(id text, epoch bigint, status text, result text, error text, records text, n int, signal bigint, reason text)
     ), done AS (
       UPDATE jobs j SET status = ${finalStatus("x.status")}, result = x.result::json, error = x.error::json, stream_seq = j.stream_seq + x.n, ${ENDED}
       FROM input x
       -- The id list makes the planner find the rows through the primary key, whatever the
       -- table's size (as in the claim). From the input alone (json_to_recordset, estimated at
       -- 100 rows) it hash-joined a sequential scan of the whole table when the table was small:
       -- a completion of two jobs cost ~0.9 ms of server CPU on a table of 2,000 jobs. The list
       -- comes from the statement itself, not a parameter, so its estimate does not depend on the
       -- parameters and the cached generic plan serves every execution (a parameter gave custom
       -- plans, planned anew each time, that cost ~0.4 ms more).
       WHERE ${FENCED("x.id", "x.epoch")} AND j.id = ANY (ARRAY(SELECT id FROM input))
       RETURNING j.id, j.awaited, j.status
     ), ${batchRecordsAndSignals("done")}, history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
       SELECT x.id, 'running', d.status, $2, ${historyRow("x.status", "x.reason")}
       FROM done d JOIN input x ON x.id = d.id
       WHERE ${HISTORY_WHEN}
     )
     SELECT id, awaited FROM done`,
    values: [JSON.stringify(input), worker],
  });
  return rows;
}

/**
 * Wakes the jobs parked on `await` of any of these finished jobs, and the parents waiting at a
 * `parallel for` whose branches these are. Runs as its own statement
 * after the finishing write, so it sees every awaiter that committed its park before; an awaiter
 * parking concurrently locks the finished job's row and sees it ended (park.ts `markAwaited`).
 */
export async function wakeAwaiters(db: Queryable, finished: string[]): Promise<string[]> {
  if (finished.length === 0) return [];
  // Named: it runs after every completion batch with an awaited job (planning 0.12 of 0.15 ms).
  const { rows } = await db.query<{ id: string }>({
    name: "runbook_wake_awaiters",
    text: `WITH woken AS (
       UPDATE jobs SET status = 'queued', due_at = now(), updated_at = now()
       WHERE status = 'waiting' AND (await_job = ANY($1::text[])
         -- the parent of a \`parallel for\` branch (runtime/join.ts); a spurious wake re-parks
         OR id IN (SELECT parent_id FROM jobs WHERE id = ANY($1::text[]) AND branch_index IS NOT NULL))
       RETURNING id, coalesce(await_job, 'branch of parallel for') AS await_job
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, reason)
       SELECT id, 'waiting', 'queued', 'awaited job ' || await_job || ' ended' FROM woken
     )
     SELECT id, pg_notify('runbook', 'jobs') FROM woken`,
    values: [finished],
  });
  return rows.map((r) => r.id);
}
