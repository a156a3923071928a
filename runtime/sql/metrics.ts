// What `GET /metrics` reads at scrape time (runtime/server/metrics.ts), and the one thing worker
// processes write for it (runtime/worker-metrics.ts). Counters that live in other processes are
// read from what the database holds: the jobs' rows, their history, and per-process histograms.
import type { Queryable } from "../rows.js";

export async function writeProcessMetrics(db: Queryable, process: string, buckets: number[], sumMs: number, count: number): Promise<void> {
  await db.query(
    `INSERT INTO runbook_process_metrics (process, checkpoint_buckets, checkpoint_sum_ms, checkpoint_count, updated_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (process) DO UPDATE SET checkpoint_buckets = excluded.checkpoint_buckets, checkpoint_sum_ms = excluded.checkpoint_sum_ms,
       checkpoint_count = excluded.checkpoint_count, updated_at = now()`,
    [process, buckets, sumMs, count],
  );
}

/** Every process's checkpoint histogram, summed bucket by bucket. */
export async function checkpointHistogram(db: Queryable, buckets: number): Promise<{ counts: number[]; sumMs: number; count: number }> {
  const { rows } = await db.query<{ checkpoint_buckets: string[]; checkpoint_sum_ms: number; checkpoint_count: string }>(
    "SELECT checkpoint_buckets, checkpoint_sum_ms, checkpoint_count FROM runbook_process_metrics",
  );
  const counts = new Array<number>(buckets).fill(0);
  let sumMs = 0;
  let count = 0;
  for (const r of rows) {
    r.checkpoint_buckets.forEach((n, i) => i < buckets && (counts[i] += Number(n)));
    sumMs += r.checkpoint_sum_ms;
    count += Number(r.checkpoint_count);
  }
  return { counts, sumMs, count };
}

/** Jobs by runbook and status, with the checkpoints they have committed. */
export async function jobCounts(db: Queryable): Promise<{ runbook: string; status: string; jobs: number; checkpoints: number }[]> {
  const { rows } = await db.query<{ runbook: string; status: string; jobs: number; checkpoints: number }>(
    "SELECT runbook, status, count(*)::float8 AS jobs, coalesce(sum(checkpoints), 0)::float8 AS checkpoints FROM jobs GROUP BY runbook, status",
  );
  return rows;
}

/** Each worker's claims so far (migration 0008: a first claim has no history line to count). */
export async function claimsByWorker(db: Queryable): Promise<{ name: string; claims: number }[]> {
  const { rows } = await db.query<{ name: string; claims: number }>("SELECT name, claims::float8 AS claims FROM workers");
  return rows;
}

export async function liveWorkerCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM workers WHERE stopped_at IS NULL AND heartbeat_at > now() - timeout_ms * interval '1 millisecond'",
  );
  return rows[0].n;
}

export interface HistoryTally {
  /** The highest history id counted (the next tally starts after it). */
  last: string;
  takeovers: number;
  handovers: number;
}

/**
 * Lease takeovers and handovers among the history lines after `after`, up to the lines
 * ten seconds old: a line's id is taken when it is inserted, not when it commits, so a line
 * younger than its transaction could still appear below an id already counted. Only new lines
 * are read (the primary key), so a scrape costs what happened since the last one.
 * The reasons are the ones runtime/sql/claim.ts and the worker's handovers write.
 */
export async function tallyHistory(db: Queryable, after: string): Promise<HistoryTally> {
  const { rows } = await db.query<HistoryTally>(
    `SELECT coalesce(max(id), $1)::text AS last,
            count(*) FILTER (WHERE to_status = 'running' AND from_status = 'running' AND reason LIKE 'lease of % expired%')::float8 AS takeovers,
            count(*) FILTER (WHERE from_status = 'running' AND to_status IN ('queued', 'suspended')
                               AND (reason LIKE 'worker % is %' OR reason LIKE 'slot % moved%' OR reason LIKE 'interrupted: slot %'))::float8 AS handovers
     FROM job_history WHERE id > $1 AND at < now() - interval '10 seconds'`,
    [after],
  );
  return rows[0];
}

export interface TickTally {
  /** The latest record time counted, as text: a Date would drop its microseconds, and the next
   * tally (after it) would count that record again. Null: none yet. */
  last: string | null;
  fired: number;
  triggered: number;
  skipped: number;
  /** Ticks missed (one record stands for a run of them: its `missed` count). */
  missed: number;
}

/**
 * Schedule ticks decided since `after`: fired, triggered by hand, skipped (overlap) and missed
 * (an outage beyond the catch-up window), up to the records ten seconds old, for the reason
 * tallyHistory gives. A record's `at` is set when its outcome is decided (a queued tick's again
 * when it fires or is skipped), so each decided tick is counted once, and retention removing old
 * records takes nothing from the counters.
 */
export async function tallyTicks(db: Queryable, after: string | null): Promise<TickTally> {
  const { rows } = await db.query<TickTally>(
    `SELECT coalesce(max(at)::text, $1::text) AS last,
            count(*) FILTER (WHERE outcome = 'fired')::float8 AS fired,
            count(*) FILTER (WHERE outcome = 'triggered')::float8 AS triggered,
            count(*) FILTER (WHERE outcome = 'skipped')::float8 AS skipped,
            coalesce(sum(missed) FILTER (WHERE outcome = 'missed'), 0)::float8 AS missed
     FROM schedule_ticks
     WHERE outcome <> 'queued' AND ($1::text IS NULL OR at > $1::text::timestamptz) AND at < now() - interval '10 seconds'`,
    [after],
  );
  return rows[0];
}
