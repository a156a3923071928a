// A line in a running job's history that is no status change (the job goes on running), fenced
// by the lease epoch like every other write of its worker.
import type { Queryable } from "../rows.js";

/** Returns false when the lease was lost (nothing written). */
export async function noteHistory(db: Queryable, n: { id: string; epoch: string; worker: string; reason: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
     SELECT id, 'running', 'running', $3, $4 FROM jobs WHERE id = $1 AND lease_epoch = $2 AND status = 'running'`,
    [n.id, n.epoch, n.worker, n.reason],
  );
  return rowCount === 1;
}
