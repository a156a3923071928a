// Retention: finished jobs older than the retention period are removed by the workers
// themselves, so a queue that runs for years does not grow forever (Azure Automation keeps job
// logs 30 days; so do we by default). One worker at a time does it (a session advisory lock,
// tried, never waited for), in batches of `batch` jobs with a pause between them, so the queue's
// own statements always get their turn. `runbook prune` does the same by hand.
import type pg from "pg";
import { withClient } from "./db/tx.js";
import { pruneBatch } from "./sql/prune.js";
import { pruneTicks } from "./sql/schedules.js";

/** Any constant works; the same in every process. */
const RETENTION_LOCK = 7_243_003;

export interface PruneOptions {
  olderThanMs: number;
  /** Jobs per batch (one statement each). */
  batch?: number;
  /** Pause between batches. */
  pauseMs?: number;
  /** Stop after this many batches (the next pass goes on). */
  maxBatches?: number;
}

/**
 * Prunes in batches until none is left (or maxBatches); returns how many jobs were removed.
 * Schedules' tick records of the same age go too, batched the same way (not counted).
 */
export async function prune(pool: pg.Pool, o: PruneOptions): Promise<number> {
  const batch = o.batch ?? 500;
  const batches = async (one: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (let i = 0; i < (o.maxBatches ?? Infinity); i++) {
      const n = await one();
      total += n;
      if (n < batch) break;
      await new Promise((r) => setTimeout(r, o.pauseMs ?? 20));
    }
    return total;
  };
  const jobs = await batches(() => pruneBatch(pool, o.olderThanMs, batch));
  await batches(() => pruneTicks(pool, o.olderThanMs, batch));
  return jobs;
}

/**
 * One retention pass, if no other worker is doing one: returns the jobs removed, or null when
 * another worker holds the lock.
 */
export async function retentionPass(pool: pg.Pool, o: PruneOptions): Promise<number | null> {
  // withClient: the lock's session may be ended by the server mid-pass (db/tx.ts says why that
  // must not reach the process as an unhandled error).
  return withClient(pool, async (client) => {
    const { rows } = await client.query<{ got: boolean }>("SELECT pg_try_advisory_lock($1) AS got", [RETENTION_LOCK]);
    if (!rows[0].got) return null;
    try {
      return await prune(pool, o);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [RETENTION_LOCK]);
    }
  });
}
