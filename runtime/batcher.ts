// Batched completions: every final status written while a flush is in flight waits for the
// next one, so one commit carries many jobs (RUNTIME.md: "claims and completions should be
// batched"). Each job stays fenced by its own epoch inside the batch.
import type pg from "pg";
import { encodeCompletion, wakeAwaiters, writeCompletions, type Completion, type EncodedCompletion } from "./sql/complete.js";

const MAX_BATCH = 500;
/**
 * Flushes in flight at once: a batch waiting on a slow commit does not hold up the next one.
 * With one-checkpoint jobs (bench/runtime.ts, loaded 2-core machine) 1 and 2 measured within
 * the noise (1,900-3,100 jobs/s); 2 keeps completion latency lower when commits are slow.
 */
const MAX_FLUSHES = 2;

interface Pending {
  completion: EncodedCompletion;
  resolve(written: boolean): void;
  reject(e: unknown): void;
}

export class CompletionBatcher {
  private queue: Pending[] = [];
  private flushes = new Set<Promise<void>>();
  private scheduled = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly worker: string,
  ) {}

  /**
   * Resolves true once written, false when the job's lease was lost (nothing was written).
   * Rejects at once with UnstorableValue for a value the database cannot hold (that job only).
   */
  add(completion: Completion): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ completion: encodeCompletion(completion), resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything added so far is written. */
  async idle(): Promise<void> {
    while (this.queue.length || this.flushes.size || this.scheduled) {
      if (this.flushes.size) await Promise.race(this.flushes);
      else await new Promise((r) => setImmediate(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushes.size >= MAX_FLUSHES || this.queue.length === 0) return;
    this.scheduled = true;
    // Let the completions of this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      const flush: Promise<void> = this.flush().finally(() => {
        this.flushes.delete(flush);
        this.schedule();
      });
      this.flushes.add(flush);
      this.schedule();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    try {
      // One statement, so one round trip and one commit for the whole batch.
      const { written, awaited } = await withRetry(() => writeCompletions(this.pool, this.worker, batch.map((p) => p.completion)));
      // A separate statement, after the jobs' rows are updated (see wakeAwaiters). A crash
      // between the two delays the waiters until their recheck (settings.ts AWAIT_RECHECK_MS).
      if (awaited.length) await withRetry(() => wakeAwaiters(this.pool, awaited));
      for (const p of batch) p.resolve(written.has(p.completion.id));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}

/** Deadlocks and serialization failures are retried; anything else is not. */
async function withRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (i >= attempts || (code !== "40P01" && code !== "40001")) throw e;
      await new Promise((r) => setTimeout(r, 5 * i));
    }
  }
}
