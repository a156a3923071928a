// A checkpoint: the job's whole state and the stream records written since the last one, in
// one statement (one implicit transaction), fenced by the lease epoch.
//
// RUNTIME.md: "single-row UPDATE of a 2 KB state, synchronous commit: 6,200/s on 1 connection
// (p50 0.16 ms)"; our goal is at most 1.5x that per checkpoint, so the common case (no stream
// records, no signal to consume) is exactly one single-row UPDATE. RUNTIME.md also says
// "checkpoints cannot be batched across jobs without delaying their durability": the worker
// batches only the checkpoints that are already waiting while earlier ones commit, and never
// waits to fill a batch (runtime/batcher.ts, docs/runtime.md). "Checkpoints never notify."
// The hot statements (here, claim, park, complete) are named, so each connection parses and
// plans them once (prepared statements).
import type { JobState } from "../abi.js";
import { encodeJson } from "../json-text.js";
import type { Queryable } from "../rows.js";

/** A stream record with its per-job sequence number, as stored in job_streams. */
export interface NumberedRecord {
  seq: number;
  stream: string;
  value: unknown;
}

export interface CheckpointWrite {
  id: string;
  epoch: string;
  state: JobState;
  label: string | null;
  records: NumberedRecord[];
  /** A signal a `wait` received since the last write: consumed by this write. */
  consumeSignal: string | null;
}

/** What a checkpoint found: the operator control pending on the job, or null when the lease was lost. */
export type CheckpointResult = { control: "suspend" | "stop" | null } | null;

/** A checkpoint as the statements read it: its values already in their stored text. */
export interface EncodedCheckpoint {
  id: string;
  epoch: string;
  state: string;
  label: string | null;
  /** recordsText of its records, or null for none. */
  records: string | null;
  n: number;
  signal: string | null;
}

/**
 * Encodes a checkpoint's values (runtime/json-text.ts); throws UnstorableValue. Records before
 * the state, as every writer (and memory.ts) encodes them: the same value that cannot be stored
 * is named the same way everywhere. The worker encodes each job's checkpoint before it joins a
 * batch, so a value that cannot be stored fails that job alone.
 */
export function encodeCheckpoint(w: CheckpointWrite): EncodedCheckpoint {
  const records = w.records.length === 0 ? null : recordsText(w.records);
  return { id: w.id, epoch: w.epoch, state: encodeJson(w.state, "the job's state"), label: w.label, records, n: w.records.length, signal: w.consumeSignal };
}

/** One job's checkpoint. Returns null when the lease was lost (zero rows: write nothing more for this job). */
export async function writeCheckpoint(db: Queryable, w: CheckpointWrite): Promise<CheckpointResult> {
  return writeOne(db, encodeCheckpoint(w));
}

/**
 * The checkpoints of several jobs in one statement, so one commit (runtime/batcher.ts says
 * when); each is fenced by its own epoch. Returns each job's result by id (a job missing from
 * the map lost its lease).
 */
export async function writeCheckpoints(db: Queryable, input: EncodedCheckpoint[]): Promise<Map<string, CheckpointResult>> {
  if (input.length === 1) return new Map([[input[0].id, await writeOne(db, input[0])]]);
  const { rows } = await db.query<{ id: string; control: "suspend" | "stop" | null }>({
    name: "runbook_checkpoint_batch",
    text: `WITH input AS (
       -- Values arrive as text inside the JSON (see recordsText) and are cast to json here.
       SELECT * FROM json_to_recordset($1::json) AS x(id text, epoch bigint, state text, label text, records text, n int, signal bigint)
     ), j AS (
       UPDATE jobs j SET state = x.state::json, checkpoint_label = x.label, checkpoint_at = now(), checkpoints = j.checkpoints + 1,
              stream_seq = j.stream_seq + x.n, wait_signal = NULL, await_job = NULL, wait_until = NULL, updated_at = now()
       FROM input x
       -- The id list: see complete.ts writeBatch.
       WHERE j.id = x.id AND j.lease_epoch = x.epoch AND j.status = 'running' AND j.id = ANY (ARRAY(SELECT id FROM input))
       RETURNING j.id, j.control
     ), ${batchRecordsAndSignals("j")}
     SELECT id, control FROM j`,
    values: [JSON.stringify(input)],
  });
  return new Map(rows.map((r) => [r.id, { control: r.control }]));
}

/**
 * RUNTIME.md: "single-row UPDATE of a 2 KB state, synchronous commit: 6,200/s on 1 connection";
 * the common case (no stream records, no signal to consume) is exactly one single-row UPDATE.
 */
async function writeOne(db: Queryable, w: EncodedCheckpoint): Promise<CheckpointResult> {
  if (w.records === null && w.signal === null) {
    const { rows } = await db.query<{ control: "suspend" | "stop" | null }>({
      name: "runbook_checkpoint",
      text: `UPDATE jobs SET state = $3, checkpoint_label = $4, checkpoint_at = now(), checkpoints = checkpoints + 1,
              wait_signal = NULL, await_job = NULL, wait_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_epoch = $2 AND status = 'running'
       RETURNING control`,
      values: [w.id, w.epoch, w.state, w.label],
    });
    return rows[0] ?? null;
  }
  const { rows } = await db.query<{ control: "suspend" | "stop" | null }>({
    name: "runbook_checkpoint_records",
    text: `WITH j AS (
       UPDATE jobs SET state = $3, checkpoint_label = $4, checkpoint_at = now(), checkpoints = checkpoints + 1,
              stream_seq = stream_seq + $5, wait_signal = NULL, await_job = NULL, wait_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_epoch = $2 AND status = 'running'
       RETURNING control
     ), streams AS (
       INSERT INTO job_streams (job_id, seq, stream, value)
       SELECT $1, r.seq, r.stream, r.value::json FROM j, json_to_recordset($6::json) AS r(seq int, stream text, value text)
     ), consumed AS (
       UPDATE signals SET consumed_at = now() WHERE id = $7 AND EXISTS (SELECT 1 FROM j)
     )
     SELECT control FROM j`,
    values: [w.id, w.epoch, w.state, w.label, w.n, w.records ?? "[]", w.signal],
  });
  return rows[0] ?? null;
}

/**
 * The stream records and consumed signals of a batch statement (here, and complete.ts's): two
 * CTEs after the one named `written`, which returns the ids of the jobs written, from the CTE
 * `input` with the columns id, records (recordsText), n (their count) and signal. Only the jobs
 * written get their records and signals: a lost job's are left out with it.
 */
export function batchRecordsAndSignals(written: string): string {
  return `streams AS (
       INSERT INTO job_streams (job_id, seq, stream, value)
       SELECT x.id, r.seq, r.stream, r.value::json
       FROM ${written} w JOIN input x ON x.id = w.id, json_to_recordset(x.records::json) AS r(seq int, stream text, value text)
       -- Tested on the input first, so a batch with no records (or no signal, below) joins nothing.
       WHERE x.n > 0
     ), consumed AS (
       UPDATE signals s SET consumed_at = now() FROM ${written} w JOIN input x ON x.id = w.id WHERE s.id = x.signal AND x.signal IS NOT NULL
     )`;
}

/**
 * Stream records as the statements above read them (json_to_recordset): each value as its stored
 * text inside a JSON string, cast back to json in SQL. A value given as a json field would be
 * parsed by PostgreSQL's JSON parser, which rejects \u0000 and lone surrogates in any field; a
 * text field is only unescaped, so the value's text arrives exactly as encodeJson wrote it.
 */
export function recordsText(records: NumberedRecord[]): string {
  return JSON.stringify(records.map((r) => ({ seq: r.seq, stream: r.stream, value: encodeJson(r.value, `the ${r.stream} record`) })));
}
