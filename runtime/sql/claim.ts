// Claiming due jobs in the slots a worker owns.
//
// RUNTIME.md: "FOR UPDATE SKIP LOCKED dequeue, primary-key index only: 820/s, and falling fast
// as dead rows pile up; the same with a partial index on claimable rows: 4,000-6,400/s" -> the
// scan below runs on jobs_claimable (due_at IS NOT NULL). "claims and completions should be
// batched" -> one statement claims up to `limit` jobs. Every claim bumps the lease epoch, which
// fences all writes of the previous holder.
import type { JobState, Json } from "../abi.js";
import type { Queryable } from "../rows.js";
import { DEFAULT_GROUP } from "../settings.js";

/** A job just claimed: what the worker needs to continue it. */
export interface ClaimedJob {
  id: string;
  runbook: string;
  version: string;
  params: Record<string, Json>;
  /** Latest checkpoint (null: from the beginning). Unchecked: a corrupt row fails the job. */
  state: JobState | null;
  /** The new lease epoch: every write for this job is fenced by it. */
  lease_epoch: string;
  stream_seq: number;
  slot: number;
  wait_signal: string | null;
  await_job: string | null;
  /** It was parked on a timer (a sleep, or a wait with a timeout). */
  has_timer: boolean;
  /** That timer has run out (database clock). */
  timed_out: boolean;
  /** Its priority (migration 0011); claims come highest first, then by due time. */
  priority: number;
}

/**
 * The claim: $1 the worker, $2 its slots, $3 the most jobs, $4 the lease in ms, $5 the versions it
 * refuses, $6 its group. Exported for test/runtime/claim-plan.test.ts, which reads its plan.
 */
export const CLAIM_TEXT = `WITH picked AS (
    SELECT ctid AS tid, id, status AS from_status, worker AS from_worker, priority, due_at AS was_due
    FROM jobs
    -- Only a queued, running, sleeping or waiting job has a due time (the row rule
    -- jobs_due_only_when_claimable, migration 0014), and FOR UPDATE re-checks due_at on the
    -- newest row version: a job that ended meanwhile has none and is passed over. The status
    -- is not tested as well: the planner would multiply its selectivity with due_at's as if
    -- they were independent (with 1,000,000 finished jobs, 482 rows expected for 20,000).
    WHERE due_at <= now() AND slot = ANY($2::int[])
      -- The refused versions as a containment test, which the planner estimates as rarely true.
      -- Written NOT (version = ANY($5)), it reads the column's statistics instead, and with a
      -- single published version expects no row to pass: its generic plan then fetched and
      -- sorted every due job (20,000 rows to claim 500) instead of walking jobs_claim_order.
      AND NOT ($5::text[] @> ARRAY[version])
      -- Placement (migration 0011): the worker's group, highest priority first. The order is
      -- jobs_claim_order's, so the scan stops after LIMIT rows (docs/runtime.md).
      AND worker_group = $6
    ORDER BY priority DESC, due_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE jobs j
    SET status = 'running', worker = $1, lease_epoch = j.lease_epoch + 1,
        due_at = now() + $4 * interval '1 millisecond', updated_at = now(), started_at = coalesce(j.started_at, now())
    FROM picked p
    -- The rows are fetched by the row versions picked locked (a TID scan), whatever the
    -- table's size. Joined on the id alone, the planner hash-joined a sequential scan of the
    -- whole table when it was small (20,000 jobs: 3.4 of the claim's 12 ms). With a list of
    -- the ids (the previous fix) it chose, on a large table, a nested loop that matched each
    -- picked row against the whole list: 92.6 ms to claim 500 of 1,000,000 jobs, against
    -- 14.6 ms now (12.4-12.9 ms at 2,000 and 20,000 jobs, as before). A row updated between
    -- this statement's snapshot and its lock has a version the snapshot cannot see: it is left
    -- out of this claim, still claimable, as a row SKIP LOCKED passed over would be.
    WHERE j.id = p.id AND j.ctid = ANY (ARRAY(SELECT tid FROM picked))
    RETURNING j.id, j.runbook, j.version, j.params, j.state, j.lease_epoch, j.stream_seq, j.slot,
              j.wait_signal, j.await_job, j.wait_until IS NOT NULL AS has_timer, coalesce(j.wait_until <= now(), false) AS timed_out,
              p.from_status, p.from_worker, p.priority, p.was_due
  ), history AS (
    -- A job's first claim writes no history row: started_at and worker in the job row say it
    -- (migration 0008). Every later claim (a takeover, a wake, after a hand-over) has its row.
    INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
    SELECT id, from_status, 'running', $1,
           CASE from_status
             WHEN 'running' THEN 'lease of ' || coalesce(from_worker, 'a worker') || ' expired; resumed from the latest checkpoint'
             WHEN 'sleeping' THEN 'sleep ended'
             WHEN 'waiting' THEN CASE WHEN timed_out THEN 'wait timed out' ELSE 'woken' END
             ELSE 'claimed'
           END
    FROM claimed
    WHERE NOT (from_status = 'queued' AND lease_epoch = 1)
  ), counted AS (
    -- runbook_claims_total (migration 0008): this worker's own row, so no two workers' claims
    -- wait on one row; a claim that found nothing writes nothing.
    UPDATE workers SET claims = claims + (SELECT count(*) FROM claimed)
    WHERE name = $1 AND EXISTS (SELECT 1 FROM claimed)
  )
  -- The worker starts a claimed batch in this order: priority holds inside a batch too. Only
  -- what the worker reads is returned: parsing the due time alone (a Date per job) was 3% of
  -- a no-op worker's CPU.
  SELECT id, runbook, version, params, state, lease_epoch, stream_seq, slot, wait_signal, await_job, has_timer, timed_out, priority
  FROM claimed ORDER BY priority DESC, was_due`;

export async function claimJobs(
  db: Queryable,
  worker: string,
  slots: number[],
  limit: number,
  leaseMs: number,
  /** Versions this worker refuses (its activity modules differ: runtime/activity-pins.ts). */
  excludeVersions: string[] = [],
  /** The worker's group: it claims only that group's jobs (migration 0011). */
  group = DEFAULT_GROUP,
): Promise<ClaimedJob[]> {
  const { rows } = await db.query<ClaimedJob>({
    name: "runbook_claim",
    text: CLAIM_TEXT,
    values: [worker, slots, limit, leaseMs, excludeVersions, group],
  });
  return rows;
}

/** nextDue's statement: $1 the slots, $2 the refused versions, $3 the group, $4 the window in ms. */
export const NEXT_DUE_TEXT = `SELECT (SELECT min(due_at) FROM jobs
         WHERE due_at > now() - $4 * interval '1 millisecond' AND due_at < now() + $4 * interval '1 millisecond'
           AND slot = ANY($1::int[]) AND NOT ($2::text[] @> ARRAY[version]) AND worker_group = $3) AS next,
        now() AS now`;

/**
 * Database time of the next job in these slots due within `withinMs` of now, before or after (for
 * a wake-up timer; null if none), and the time now. The window is what the caller can use: a
 * timer is armed only for a time before the next poll, and a job due since the last poll that the
 * claim did not take is claimed by the next poll at the latest. It also keeps the scan off the
 * index entries every claim and completion leaves behind (the row versions of queued jobs, due
 * when they were queued, and of leases, due when they expire): at 1,000,000 finished jobs, the
 * first scan after 20,000 no-op jobs fetched their 40,000 dead versions, 200-280 ms each time.
 */
export async function nextDue(db: Queryable, slots: number[], excludeVersions: string[], group: string, withinMs: number): Promise<{ next: Date | null; now: Date }> {
  // Named: it runs at every idle poll and after every claim that found fewer jobs than it
  // asked for, and planning it took 0.59 ms against 0.04 ms to execute. Its window's bounds
  // are not constants to the planner (now() is evaluated at run time) in either plan, so the
  // generic plan is the custom one (test/runtime/claim-plan.test.ts explains both).
  const { rows } = await db.query<{ next: Date | null; now: Date }>({ name: "runbook_next_due", text: NEXT_DUE_TEXT, values: [slots, excludeVersions, group, withinMs] });
  return rows[0];
}
