// Reading jobs for operators: lists, one job in full, its streams and history.
import type { HistoryRow, JobRow, JobStatus, Queryable, StreamRow } from "../rows.js";

export type JobSummary = Pick<JobRow, "id" | "runbook" | "version" | "status" | "worker" | "slot" | "checkpoint_label" | "checkpoint_at" | "created_at" | "updated_at" | "finished_at" | "parent_id" | "schedule" | "schedule_tick">;

export interface JobFilter {
  status?: JobStatus;
  runbook?: string;
  parent?: string;
  /** The jobs of this schedule's ticks. */
  schedule?: string;
}

/** Where a page of jobs ends: the last job's creation time (as the database's exact text) and id. */
export interface JobCursor {
  at: string;
  id: string;
}

/**
 * One page of jobs, newest first, after `cursor` (the previous page's last job), and the
 * cursor of this page's last job when more follow. Keyset paging on (created_at, id), so a page
 * is not shifted by jobs started meanwhile; the cursor's time is the database's text
 * (microseconds), which a JS Date would round.
 */
export async function listJobPage(db: Queryable, filter: JobFilter, limit: number, cursor?: JobCursor): Promise<{ jobs: JobSummary[]; next: JobCursor | null }> {
  const { rows } = await db.query<JobSummary & { cursor_at: string }>(
    `SELECT id, runbook, version, status, worker, slot, checkpoint_label, checkpoint_at, created_at, updated_at, finished_at, parent_id,
            schedule, schedule_tick, created_at::text AS cursor_at
     FROM jobs
     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR runbook = $2) AND ($3::text IS NULL OR parent_id = $3)
       AND ($7::text IS NULL OR schedule = $7)
       AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::text))
     ORDER BY created_at DESC, id DESC LIMIT $6`,
    // One row more than asked tells whether there is a next page.
    [filter.status ?? null, filter.runbook ?? null, filter.parent ?? null, cursor?.at ?? null, cursor?.id ?? null, limit + 1, filter.schedule ?? null],
  );
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const last = rows.at(-1);
  return { jobs: rows.map(({ cursor_at: _, ...j }) => j), next: more && last ? { at: last.cursor_at, id: last.id } : null };
}

/** The jobs a job started (children, and the branches of a `parallel for`), oldest first. */
export async function childJobs(db: Queryable, parentId: string, limit = 1000): Promise<JobSummary[]> {
  const { rows } = await db.query<JobSummary>(
    `SELECT id, runbook, version, status, worker, slot, checkpoint_label, checkpoint_at, created_at, updated_at, finished_at, parent_id, schedule, schedule_tick
     FROM jobs WHERE parent_id = $1 ORDER BY created_at, id LIMIT $2`,
    [parentId, limit],
  );
  return rows;
}

/** Stream records after `afterSeq` (0: all), in order. */
export async function streamsAfter(db: Queryable, id: string, afterSeq = 0, stream?: string, limit?: number): Promise<StreamRow[]> {
  const { rows } = await db.query<StreamRow>(
    "SELECT * FROM job_streams WHERE job_id = $1 AND seq > $2 AND ($3::text IS NULL OR stream = $3) ORDER BY seq LIMIT $4",
    [id, afterSeq, stream ?? null, limit ?? null],
  );
  return rows;
}

/**
 * Every transition of the job: its job_history rows, and the two the job row records instead of
 * a row (migration 0008): its first claim (`started_at`) and its completion (`finished_at`),
 * with no id.
 */
export async function jobHistory(db: Queryable, id: string): Promise<HistoryRow[]> {
  return jobsHistory(db, [id]);
}

/** `jobHistory` of these jobs (null: every job), ordered by job, then time. */
export async function jobsHistory(db: Queryable, ids: string[] | null): Promise<HistoryRow[]> {
  const { rows } = await db.query<HistoryRow>(
    // The lookups below name job_history itself, not a CTE of it: a CTE used three times is
    // materialized without its index, and the per-job lookup then scanned all of it for every
    // job. For every job (the soak's evidence: 44,000 jobs, 140,000 rows) that took minutes;
    // through job_history_job it is one index probe per job.
    `WITH j AS (SELECT * FROM jobs WHERE $1::text[] IS NULL OR id = ANY($1::text[]))
     SELECT id::text, job_id, at, from_status, to_status, worker, reason FROM job_history
     WHERE $1::text[] IS NULL OR job_id = ANY($1::text[])
     UNION ALL
     SELECT NULL, j.id, j.started_at, 'queued', 'running',
            -- Its worker: the one the first row leaving that run names (a takeover names the
            -- lost worker in its reason), else the job row's.
            coalesce((SELECT CASE WHEN to_status = 'running' AND reason LIKE 'lease of % expired%' THEN substring(reason FROM '^lease of (.+) expired') ELSE worker END
                      FROM job_history h WHERE h.job_id = j.id AND from_status = 'running' AND at >= j.started_at ORDER BY id LIMIT 1), j.worker),
            'claimed'
     FROM j WHERE j.started_at IS NOT NULL
       -- Jobs started before migration 0008 have their first claim in job_history: a row from
       -- queued, not any row into running (a signal sent to the running job is a running ->
       -- running row, and its time can equal started_at: its transaction can begin before the
       -- claim's and wait on the claim's row lock).
       AND NOT EXISTS (SELECT 1 FROM job_history h WHERE h.job_id = j.id AND from_status = 'queued' AND to_status = 'running' AND at <= j.started_at)
     UNION ALL
     SELECT NULL, j.id, j.finished_at, 'running', 'completed', j.worker, 'completed'
     FROM j WHERE j.status = 'completed' AND NOT EXISTS (SELECT 1 FROM job_history h WHERE h.job_id = j.id AND to_status = 'completed')
     ORDER BY job_id, at, id`,
    [ids],
  );
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

/** A `parallel for` branch of a job, for `runbook job`. */
export interface BranchSummary {
  id: string;
  runbook: string;
  branch_key: number;
  branch_index: number;
  branch_label: string;
  status: JobStatus;
  worker: string | null;
}

/** The job's `parallel for` branches (every run), in run and element order. */
export async function branchesOf(db: Queryable, parent: string): Promise<BranchSummary[]> {
  const { rows } = await db.query<BranchSummary>(
    `SELECT id, runbook, branch_key, branch_index, branch_label, status, worker FROM jobs
     WHERE parent_id = $1 AND branch_index IS NOT NULL ORDER BY branch_key, branch_index`,
    [parent],
  );
  return rows;
}

/**
 * Stream records of the job's branches, nested branches included, past each one's cursor
 * (`after`: job id → last seq read), in commit order; each marked with its element(s)
 * (`host-2`, or `host-2 / disk-1` in a nested `parallel for`).
 */
export async function branchStreamsAfter(db: Queryable, parent: string, after: ReadonlyMap<string, number>): Promise<StreamRow[]> {
  const { rows } = await db.query<StreamRow>(
    `WITH RECURSIVE tree AS (
       SELECT id, branch_label AS label FROM jobs WHERE parent_id = $1 AND branch_index IS NOT NULL
       UNION ALL
       SELECT j.id, t.label || ' / ' || j.branch_label FROM jobs j JOIN tree t ON j.parent_id = t.id WHERE j.branch_index IS NOT NULL
     )
     SELECT s.job_id, s.seq, s.stream, s.value, s.at, t.label AS branch
     FROM tree t JOIN job_streams s ON s.job_id = t.id
     WHERE s.seq > coalesce(($2::json ->> t.id)::int, 0)
     ORDER BY s.at, s.job_id, s.seq`,
    [parent, JSON.stringify(Object.fromEntries(after))],
  );
  return rows;
}
