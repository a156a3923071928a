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
