// Removing finished jobs by age, with everything that belongs to them (stream records, history,
// signals). Each batch is one short statement: it locks at most `limit` job rows (SKIP LOCKED, so
// it never waits on a worker) and touches no row a live job needs, so workers are never stalled.
//
// Kept regardless of age: a job some unfinished job awaits, and a child whose parent has not
// ended (the parent may still `await` it).
import type { Queryable } from "../rows.js";

/** The jobs (as `j`) that ended more than $1 ms ago and that no live job still needs. */
const PRUNABLE = `WHERE j.finished_at < now() - $1 * interval '1 millisecond'
         AND j.status IN ('completed', 'failed', 'stopped')
         AND NOT EXISTS (SELECT 1 FROM jobs w WHERE w.await_job = j.id AND w.status NOT IN ('completed', 'failed', 'stopped'))
         AND (j.parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs p WHERE p.id = j.parent_id AND p.status NOT IN ('completed', 'failed', 'stopped')))`;

/** Removes up to `limit` jobs that ended more than `olderThanMs` ago; returns how many. */
export async function pruneBatch(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH doomed AS (
       SELECT j.id FROM jobs j
       ${PRUNABLE}
       ORDER BY j.finished_at
       LIMIT $2
       FOR UPDATE OF j SKIP LOCKED
     ), streams AS (
       DELETE FROM job_streams WHERE job_id IN (SELECT id FROM doomed)
     ), history AS (
       DELETE FROM job_history WHERE job_id IN (SELECT id FROM doomed)
     ), mailbox AS (
       DELETE FROM signals WHERE job_id IN (SELECT id FROM doomed)
     ), gone AS (
       DELETE FROM jobs WHERE id IN (SELECT id FROM doomed) RETURNING id
     )
     SELECT count(*)::int AS n FROM gone`,
    [olderThanMs, limit],
  );
  return rows[0].n;
}

/** How many jobs a prune with this age would remove now (for --dry-run). */
export async function countPrunable(db: Queryable, olderThanMs: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM jobs j
     ${PRUNABLE}`,
    [olderThanMs],
  );
  return rows[0].n;
}
