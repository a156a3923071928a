// What a worker process measures that the database does not hold: how long each checkpoint
// write takes. One histogram per process (in-process workers share it), written to
// runbook_process_metrics every few seconds and when the last worker stops, so `runbook serve`
// (another process) can serve it on /metrics. Everything else /metrics shows is read from the
// jobs' own rows (runtime/sql/metrics.ts).
import * as os from "node:os";
import type { Queryable } from "./rows.js";
import { writeProcessMetrics } from "./sql/metrics.js";

/** Upper bounds of the histogram's buckets, in milliseconds (the last bucket is +Inf). */
export const CHECKPOINT_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

const FLUSH_MS = 5000;

class CheckpointHistogram {
  readonly counts = new Array<number>(CHECKPOINT_BUCKETS_MS.length + 1).fill(0);
  sumMs = 0;
  count = 0;
  changed = false;

  observe(ms: number): void {
    let i = CHECKPOINT_BUCKETS_MS.findIndex((b) => ms <= b);
    if (i < 0) i = CHECKPOINT_BUCKETS_MS.length;
    this.counts[i]++;
    this.sumMs += ms;
    this.count++;
    this.changed = true;
  }
}

const histogram = new CheckpointHistogram();
/** This process, as its row names it (a restarted worker is a new process with its own row). */
const PROCESS = `${os.hostname()}:${process.pid}:${Date.now()}`;

/** Notes one checkpoint write that took `ms`. */
export function observeCheckpoint(ms: number): void {
  histogram.observe(ms);
}

let users = 0;
let timer: NodeJS.Timeout | null = null;
let db: Queryable | null = null;

async function flush(): Promise<void> {
  if (!db || !histogram.changed) return;
  histogram.changed = false;
  // A failed write (the database away) is retried at the next flush; it never stops a worker.
  await writeProcessMetrics(db, PROCESS, histogram.counts, histogram.sumMs, histogram.count).catch(() => {
    histogram.changed = true;
  });
}

/** A worker starts: flush this process's metrics every few seconds while any worker runs. */
export function startFlushing(pool: Queryable): void {
  users++;
  db = pool;
  if (!timer) {
    timer = setInterval(() => void flush(), FLUSH_MS);
    timer.unref();
  }
}

/** A worker stops; the last one writes what is left. */
export async function stopFlushing(): Promise<void> {
  users = Math.max(0, users - 1);
  if (users > 0) return;
  if (timer) clearInterval(timer);
  timer = null;
  await flush();
  db = null;
}
