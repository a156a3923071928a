// Batched writes of many jobs: every write added while the flushes in flight are busy waits for
// the next flush, so one commit carries many jobs; none waits for a batch to fill (a write added
// to an idle batcher is sent on the next turn of the event loop). Each job stays fenced by its
// own epoch inside the batch.
//
// Completions (RUNTIME.md: "claims and completions should be batched") and checkpoints. For
// checkpoints RUNTIME.md warns that batching across jobs delays their durability: it would if a
// batch waited to fill. Here a checkpoint waits only while earlier ones commit, as it would
// anyway in PostgreSQL, where concurrent commits queue for one WAL flush (docs/runtime.md has
// the measurements).
import type pg from "pg";
import type { Queryable } from "./rows.js";
import { encodeCheckpoint, writeCheckpoints, type CheckpointResult, type CheckpointWrite, type EncodedCheckpoint } from "./sql/checkpoint.js";
import { encodeCompletion, wakeAwaiters, writeCompletions, type Completion, type EncodedCompletion } from "./sql/complete.js";

const MAX_BATCH = 500;
/**
 * Checkpoint flushes in flight at once. 1, 2 and 4 measured the same within the noise
 * (bench/peers one- and ten-checkpoint jobs, docs/runtime.md); 2, as for completions.
 */
const CHECKPOINT_FLUSHES = 2;
/**
 * Completion flushes in flight at once. With checkpoints batched, fewer commits in flight let
 * checkpoints commit sooner: one-checkpoint jobs ran 4,697-4,909 jobs/s with 1 against
 * 4,543-4,678 with 2 (bench/peers, the same session, two rounds each; 4,608-4,630 against
 * 4,236-4,395 in another pair of runs), and no-op and ten-checkpoint jobs the same. A completion
 * waits at most for the one flush in flight (a 500-job batch: about 10 ms).
 */
const COMPLETION_FLUSHES = 1;

/** One write's outcome inside a flush. */
type Outcome<R> = { value: R } | { error: unknown };

interface Pending<T, R> {
  item: T;
  resolve(value: R): void;
  reject(e: unknown): void;
}

class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private flushes = new Set<Promise<void>>();
  private scheduled = false;

  constructor(
    /** Writes a batch; an outcome per item, in order. */
    private readonly write: (items: T[]) => Promise<Outcome<R>[]>,
    /** Flushes in flight at once: a batch waiting on a slow commit does not hold up the next one. */
    private readonly maxFlushes: number,
  ) {}

  /** `encode` runs first: what it throws rejects this write alone, at once. */
  add(encode: () => T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item: encode(), resolve, reject });
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
    if (this.scheduled || this.flushes.size >= this.maxFlushes || this.queue.length === 0) return;
    this.scheduled = true;
    // Let the writes of this turn of the event loop join the batch.
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
      const outcomes = await this.write(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const o = outcomes[i];
        if ("error" in o) p.reject(o.error);
        else p.resolve(o.value);
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}

/** Final statuses. */
export class CompletionBatcher {
  private readonly batcher: Batcher<EncodedCompletion, boolean>;

  constructor(pool: pg.Pool, worker: string) {
    this.batcher = new Batcher(async (batch) => {
      // One statement (two for a batch with history rows to write), so one commit for the batch.
      const { written, awaited } = await withRetry(() => writeCompletions(pool, worker, batch));
      // A separate statement, after the jobs' rows are updated (see wakeAwaiters). A crash
      // between the two delays the waiters until their recheck (settings.ts AWAIT_RECHECK_MS).
      if (awaited.length) await withRetry(() => wakeAwaiters(pool, awaited));
      return batch.map((c) => ({ value: written.has(c.id) }));
    }, COMPLETION_FLUSHES);
  }

  /**
   * Resolves true once written, false when the job's lease was lost (nothing was written).
   * Rejects at once with UnstorableValue for a value the database cannot hold (that job only).
   */
  add(completion: Completion): Promise<boolean> {
    return this.batcher.add(() => encodeCompletion(completion));
  }

  idle(): Promise<void> {
    return this.batcher.idle();
  }
}

/** Checkpoints: the jobs that checkpoint while others' checkpoints commit share the next commit. */
export class CheckpointBatcher {
  private readonly batcher: Batcher<EncodedCheckpoint, CheckpointResult>;

  constructor(pool: Queryable, maxFlushes = CHECKPOINT_FLUSHES) {
    this.batcher = new Batcher(async (batch) => {
      try {
        const results = await withRetry(() => writeCheckpoints(pool, batch));
        return batch.map((c) => ({ value: results.get(c.id) ?? null }));
      } catch (e) {
        if (batch.length === 1) return [{ error: e }];
        // A failed statement wrote nothing: each job is written again alone, so an error one
        // job's write causes is that job's alone, not its batch's.
        return Promise.all(batch.map((c) => withRetry(() => writeCheckpoints(pool, [c])).then((r) => ({ value: r.get(c.id) ?? null }), (error: unknown) => ({ error }))));
      }
    }, maxFlushes);
  }

  /**
   * Resolves with the operator control pending on the job once written, null when the job's
   * lease was lost (nothing was written). Rejects at once with UnstorableValue for a value the
   * database cannot hold (that job only).
   */
  add(write: CheckpointWrite): Promise<CheckpointResult> {
    return this.batcher.add(() => encodeCheckpoint(write));
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
