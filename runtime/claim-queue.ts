// The worker's claim loop and its local ready queue. One claim statement runs at a time, for up
// to the free capacity; it runs again whenever a job leaves, a notification arrives, the poll
// interval passes, or the next due job (a sleep's end) comes up. Claimed jobs wait in `ready`,
// their leases held (and renewed by the heartbeat), until one of `concurrency` runners is free:
// claiming whole batches instead of one statement per finished job is what makes throughput
// (see WorkerOptions.claimBatch).
import type pg from "pg";
import { JobLease } from "./lease.js";
import type { NumberedRecord } from "./sql/checkpoint.js";
import { claimJobs, nextDue, type ClaimedJob } from "./sql/claim.js";

/** A job whose lease this worker holds: waiting in the ready queue, or running. */
export interface Held {
  claim: ClaimedJob;
  lease: JobLease;
  /** Settles when the job has left this worker. */
  done: Promise<void>;
  /** Lets a job waiting in `ready` run. */
  start(): void;
}

export interface ClaimQueueOptions {
  pool: pg.Pool;
  worker: string;
  /** The worker's group: only its jobs are claimed. */
  group: string;
  concurrency: number;
  /** Most jobs one claim statement takes. */
  claimBatch: number;
  leaseMs: number;
  pollMs: number;
  /** The slots this worker owns now. */
  slots(): number[];
  /** True once the worker stops: nothing more is claimed or started. */
  stopping(): boolean;
  /** Versions whose jobs this worker does not claim now (activity modules that differ). */
  excludedVersions(): Promise<string[]>;
  /** Runs a job once a runner is free; settles when the job has left. */
  run(claim: ClaimedJob, lease: JobLease): Promise<void>;
  onCommit: (jobId: string, records: NumberedRecord[]) => void;
  /** True when a failed claim was the database being unreachable, reported elsewhere. */
  unreachable?(e: unknown): boolean;
  log(line: string): void;
}

export class ClaimQueue {
  /** Every job whose lease this worker holds, by id. */
  readonly held = new Map<string, Held>();
  /** Jobs running now (at most the concurrency). */
  private busy = 0;
  /** Claimed jobs waiting for a free runner. */
  private ready: ClaimedJob[] = [];
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  /** A next-due query in flight (not awaited by the claim loop); `close` waits for it. */
  private arming: Promise<void> | null = null;

  constructor(private readonly o: ClaimQueueOptions) {}

  /** Asks for a claim pass (coalesced with one in flight). */
  kick(): void {
    if (this.o.stopping()) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimPass()
      .catch((e) => {
        if (!this.o.unreachable?.(e)) this.o.log(`claim failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.claiming = null;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.kick();
        }
      });
  }

  /** A runner is free again (its job has released its lease or ended). */
  released(): void {
    this.busy--;
    this.dispatch();
    this.kick();
  }

  /** True when the job is claimed but waiting for a runner. */
  isWaiting(held: Held): boolean {
    return this.ready.includes(held.claim);
  }

  /** Takes a job that has not started out of the queue; the caller gives its lease back. */
  unqueue(held: Held): void {
    const i = this.ready.indexOf(held.claim);
    if (i >= 0) this.ready.splice(i, 1);
    this.held.delete(held.claim.id);
  }

  /** The job has left this worker (unless the id is held again, under a newer lease). */
  forget(id: string, lease: JobLease): void {
    if (this.held.get(id)?.lease === lease) this.held.delete(id);
  }

  /** For a stopping worker: waits out a claim in flight, then empties the ready queue. */
  async close(): Promise<Held[]> {
    await this.claiming;
    await this.arming;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const waiting: Held[] = [];
    for (const claim of this.ready.splice(0)) {
      const held = this.held.get(claim.id);
      if (!held) continue;
      this.held.delete(claim.id);
      waiting.push(held);
    }
    return waiting;
  }

  private async claimPass(): Promise<void> {
    const { concurrency, claimBatch } = this.o;
    while (!this.o.stopping() && this.o.slots().length > 0) {
      // Refill once half the batch has started, so the next batch arrives before the runners
      // run dry (a claim of hundreds of rows takes a while on a busy server); when the runners
      // are idle, claim whatever there is room for.
      const room = concurrency + claimBatch - this.busy - this.ready.length;
      const idle = this.busy < concurrency && this.ready.length === 0;
      if (this.ready.length > claimBatch / 2 && !idle) return;
      if (room <= 0) return;
      const want = Math.min(room, claimBatch);
      const sent = performance.now();
      const claimed = await claimJobs(this.o.pool, this.o.worker, this.o.slots(), want, this.o.leaseMs, await this.o.excludedVersions(), this.o.group);
      for (const c of claimed) this.hold(c, sent);
      this.dispatch();
      if (claimed.length < want) {
        // Not awaited: a job queued meanwhile (its notification) is claimed at once, not after
        // this query's round trip (bench/peers.ts latency).
        const arming: Promise<void> = this.armWakeTimer()
          .catch((e) => {
            if (!this.o.unreachable?.(e)) this.o.log(`next due time: ${(e as Error).message}`);
          })
          .finally(() => {
            if (this.arming === arming) this.arming = null;
          });
        this.arming = arming;
        return;
      }
    }
  }

  /** Starts claimed jobs while runners are free. */
  private dispatch(): void {
    while (this.busy < this.o.concurrency && this.ready.length > 0 && !this.o.stopping()) this.launch(this.ready.shift()!);
  }

  /**
   * A timer for the next due job (a sleep ending), when it comes before the next poll: nextDue
   * looks only within a poll interval of now, so a time it finds is always before the poll.
   */
  private async armWakeTimer(): Promise<void> {
    const { next, now } = await nextDue(this.o.pool, this.o.slots(), await this.o.excludedVersions(), this.o.group, this.o.pollMs);
    if (!next || this.o.stopping()) return;
    const delay = next.getTime() - now.getTime();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.kick();
    }, Math.max(1, delay + 2));
  }

  /** Takes the lease of a claimed job; it waits in `ready` until a runner is free. */
  private hold(claim: ClaimedJob, claimedAt: number): void {
    const lease = new JobLease(this.o.pool, this.o.worker, claim, this.o.onCommit, { leaseMs: this.o.leaseMs, claimedAt });
    let start!: () => void;
    const started = new Promise<void>((r) => (start = r));
    const done = started.then(() => this.o.run(claim, lease));
    this.held.set(claim.id, { claim, lease, done, start });
    this.ready.push(claim);
  }

  private launch(claim: ClaimedJob): void {
    const held = this.held.get(claim.id);
    if (!held) return;
    this.busy++;
    held.start();
  }
}
