// A checkpoint: the job's whole state and the stream records written since the last one, in
// one statement (one implicit transaction), fenced by the lease epoch.
//
// RUNTIME.md: "single-row UPDATE of a 2 KB state, synchronous commit: 6,200/s on 1 connection
// (p50 0.16 ms)"; our goal is at most 1.5x that per checkpoint, so the common case (no stream
// records, no signal to consume) is exactly one single-row UPDATE. "checkpoints cannot be
// batched across jobs without delaying their durability" and "checkpoints never notify".
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

/**
 * Returns null when the lease was lost (zero rows: write nothing more for this job), else the
 * operator control pending on the job (suspend/stop), if any.
 */
export async function writeCheckpoint(db: Queryable, w: CheckpointWrite): Promise<{ control: "suspend" | "stop" | null } | null> {
  // Records before the state, as every writer (and memory.ts) encodes them: the same value that
  // cannot be stored is named the same way everywhere.
  const records = w.records.length === 0 ? null : recordsText(w.records);
  const state = encodeJson(w.state, "the job's state");
  if (records === null && w.consumeSignal === null) {
    const { rows } = await db.query<{ control: "suspend" | "stop" | null }>({
      name: "runbook_checkpoint",
      text: `UPDATE jobs SET state = $3, checkpoint_label = $4, checkpoint_at = now(), checkpoints = checkpoints + 1,
              wait_signal = NULL, await_job = NULL, wait_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_epoch = $2 AND status = 'running'
       RETURNING control`,
      values: [w.id, w.epoch, state, w.label],
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
    values: [w.id, w.epoch, state, w.label, w.records.length, records ?? "[]", w.consumeSignal],
  });
  return rows[0] ?? null;
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
