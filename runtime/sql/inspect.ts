// Reading jobs for operators: lists, one job in full, its streams and history.
import type { HistoryRow, JobRow, JobStatus, Queryable, StreamRow } from "../rows.js";

export type JobSummary = Pick<JobRow, "id" | "runbook" | "version" | "status" | "worker" | "slot" | "checkpoint_label" | "checkpoint_at" | "created_at" | "updated_at" | "finished_at" | "parent_id">;

export async function listJobs(db: Queryable, status?: JobStatus, limit = 1000): Promise<JobSummary[]> {
  const { rows } = await db.query<JobSummary>(
    `SELECT id, runbook, version, status, worker, slot, checkpoint_label, checkpoint_at, created_at, updated_at, finished_at, parent_id
     FROM jobs WHERE $1::text IS NULL OR status = $1 ORDER BY created_at DESC, id LIMIT $2`,
    [status ?? null, limit],
  );
  return rows;
}

/** Stream records after `afterSeq` (0: all), in order. */
export async function streamsAfter(db: Queryable, id: string, afterSeq = 0, stream?: string): Promise<StreamRow[]> {
  const { rows } = await db.query<StreamRow>(
    "SELECT * FROM job_streams WHERE job_id = $1 AND seq > $2 AND ($3::text IS NULL OR stream = $3) ORDER BY seq",
    [id, afterSeq, stream ?? null],
  );
  return rows;
}

export async function jobHistory(db: Queryable, id: string): Promise<HistoryRow[]> {
  const { rows } = await db.query<HistoryRow>("SELECT * FROM job_history WHERE job_id = $1 ORDER BY id", [id]);
  return rows;
}

/** Ids of jobs whose id starts with `prefix` (for "did you mean" and short ids). */
export async function jobsWithPrefix(db: Queryable, prefix: string, limit = 5): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM jobs WHERE id LIKE $1 ESCAPE '\\' ORDER BY id LIMIT $2",
    [`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, limit],
  );
  return rows.map((r) => r.id);
}
