// A worker's hold on one claimed job: every write it makes for the job, each fenced by the lease
// epoch of its claim. The first write that finds the epoch changed (zero rows) marks the lease
// lost: the job stops running here at once and nothing more is written for it. What to write
// (a checkpoint, which park, which final status) is decided by runtime/protocol.ts; this file
// only performs it.
import type pg from "pg";
import type { Input, JobState, Join, Json, StreamRecord } from "./abi.js";
import { planJoin } from "./join.js";
import { insertBranches, lockBranches, unfinishedBranches, type NewBranch } from "./sql/branches.js";
import { controlJob } from "./sql/control.js";
import { withTransaction } from "./db/tx.js";
import type { JobStatus } from "./rows.js";
import type { CheckpointBatcher, CompletionBatcher } from "./batcher.js";
import type { ClaimedJob } from "./sql/claim.js";
import type { NumberedRecord } from "./sql/checkpoint.js";
import { observeCheckpoint } from "./worker-metrics.js";
import { wakeAwaiters, type Completion } from "./sql/complete.js";
import { renewLease } from "./sql/workers.js";
import { consumeSignal, lockLeased, markAwaited, parkJob, peekSignal, releaseLease } from "./sql/park.js";
import { settle, type Finish, type Found, type OperatorAction, type ParkFields } from "./protocol.js";

/** How a park ended: the job waits elsewhere now, or it may go on at once with an input. */
export type ParkOutcome = { kind: "parked"; status: JobStatus } | { kind: "continue"; input: Input } | { kind: "lost" };

/**
 * The reason an operator's `runbook suspend` or `runbook stop` puts on a running job's abort
 * signal: its step ends at the next tick, and the runner parks it as the pending control says.
 */
export class OperatorControl extends Error {
  constructor(readonly action: OperatorAction) {
    super(`the job was ${action === "stop" ? "stopped" : "suspended"} by an operator`);
  }
}

/**
 * A one-shot stop with its reason: what the runner used two AbortControllers per job for. An
 * AbortController is an EventTarget, and creating, wiring and collecting two per job was the
 * worker's largest cost per no-op job after garbage collection (a CPU profile of 40,000 no-op
 * jobs: createAbortSignal alone 6.7 us per job, collection 42 us). `signal` reads as the
 * AbortSignal it replaces (driver.ts reads `aborted` and `reason`).
 */
export class StopFlag {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | null = null;

  get signal(): StopFlag {
    return this;
  }

  /** Calls `fn` once it stops (at once if it has). */
  onStop(fn: () => void): void {
    if (this.aborted) fn();
    else (this.listeners ??= []).push(fn);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const fns = this.listeners ?? [];
    this.listeners = null;
    for (const fn of fns) fn();
  }
}

export class JobLease {
  readonly id: string;
  readonly epoch: string;
  readonly slot: number;
  /** Stream records committed so far (the next record is number streamSeq + 1). */
  private streamSeq: number;
  /** A signal received by a `wait`, consumed by the next write. */
  private pendingSignal: string | null = null;
  private lostFlag = false;
  /** This worker gave the job back itself (release); any other loss is a takeover. */
  private releasedFlag = false;
  /** performance.now() when the latest renewal of this lease (its claim, a heartbeat) was sent. */
  private renewedAt: number;
  private readonly leaseMs: number | undefined;
  /** Ends the job's step at its next tick: the lease lost, the worker interrupting it, an operator. */
  readonly abort = new StopFlag();
  /**
   * Cancels its activities in flight (their ctx.signal): fired with `abort`, except for an
   * operator's suspend, which lets a call in flight finish (a killed `exec` would be an error
   * the runbook sees, and a suspended job must be able to go on as if nothing happened).
   */
  readonly cancel = new StopFlag();

  constructor(
    private readonly pool: pg.Pool,
    private readonly worker: string,
    claim: ClaimedJob,
    /** Told about every record once it is committed (for `runbook run`'s live output). */
    private readonly onCommit: (jobId: string, records: NumberedRecord[]) => void,
    /** The lease length and when the claim was sent; without them `confirm()` never checks. */
    timing: { leaseMs: number; claimedAt: number } | null = null,
  ) {
    this.leaseMs = timing?.leaseMs;
    this.renewedAt = timing?.claimedAt ?? performance.now();
    this.id = claim.id;
    this.epoch = claim.lease_epoch;
    this.slot = claim.slot;
    this.streamSeq = claim.stream_seq;
  }

  get lost(): boolean {
    return this.lostFlag;
  }

  /** The lease was lost to another worker (not given back by this one). */
  get takenOver(): boolean {
    return this.lostFlag && !this.releasedFlag;
  }

  /** A renewal sent at `at` (performance.now()) was committed. */
  renewed(at: number): void {
    if (at > this.renewedAt) this.renewedAt = at;
  }

  /**
   * Before work with effects outside the database (an activity call): true while the lease is
   * surely still ours. Fenced writes catch a stale worker only when it writes; a worker that
   * was paused past its lease (SIGSTOP, a long GC pause, a partition) would otherwise start the
   * next activity of a job that is already running elsewhere. A renewal younger than half the
   * lease needs no query (on the monotonic clock, which runs on while the process is stopped);
   * an older one is confirmed by renewing the lease, fenced, first.
   */
  async confirm(): Promise<boolean> {
    if (this.lostFlag) return false;
    if (this.leaseMs === undefined || performance.now() - this.renewedAt < this.leaseMs / 2) return true;
    const sent = performance.now();
    // The database unreachable counts as lost: the call is not made, nothing is written, and
    // the job resumes from its latest checkpoint once the lease expires (an outage must not
    // become an activity error the runbook could catch, or fail the job).
    if (!(await renewLease(this.pool, this.id, this.epoch, this.leaseMs).catch(() => false))) {
      this.markLost();
      return false;
    }
    this.renewed(sent);
    return true;
  }

  markLost(): void {
    if (this.lostFlag) return;
    this.lostFlag = true;
    this.end(new Error("the job's lease was lost"));
  }

  /** An operator's pending suspend or stop (jobs.control) reached the worker running the job. */
  operatorControl(action: OperatorAction): void {
    if (!this.abort.signal.aborted) this.abort.abort(new OperatorControl(action));
    // A stop after a suspend still cancels what is in flight.
    if (action === "stop" && !this.cancel.signal.aborted) this.cancel.abort(new OperatorControl(action));
  }

  /** The operator control that ended the job's step, if that is what ended it. */
  get operatorAction(): OperatorAction | null {
    const reason: unknown = this.abort.signal.reason;
    return reason instanceof OperatorControl ? reason.action : null;
  }

  private end(reason: Error): void {
    if (!this.abort.signal.aborted) this.abort.abort(reason);
    if (!this.cancel.signal.aborted) this.cancel.abort(reason);
  }

  private number(records: StreamRecord[]): NumberedRecord[] {
    return records.map((r, i) => ({ seq: this.streamSeq + i + 1, stream: r.stream, value: r.value }));
  }

  private committed(records: NumberedRecord[]): void {
    this.streamSeq += records.length;
    this.pendingSignal = null;
    if (records.length) this.onCommit(this.id, records);
  }

  /** A plain checkpoint. Returns the operator control pending on the job, or "lost". */
  async checkpoint(batcher: CheckpointBatcher, state: JobState, label: string | null, records: StreamRecord[]): Promise<"suspend" | "stop" | null | "lost"> {
    if (this.lostFlag) return "lost";
    const numbered = this.number(records);
    const began = performance.now();
    const r = await batcher.add({ id: this.id, epoch: this.epoch, state, label, records: numbered, consumeSignal: this.pendingSignal });
    observeCheckpoint(performance.now() - began);
    if (!r) {
      this.markLost();
      return "lost";
    }
    this.committed(numbered);
    return r.control;
  }

  /**
   * Writes a park (runtime/protocol.ts `parkFields` says which). One that waits on a signal or a
   * job first looks, under the job's row lock, whether that is already there (`settle`): then
   * the job goes on at once (`continue`) instead.
   */
  async park(p: ParkFields, records: StreamRecord[] = []): Promise<ParkOutcome> {
    if (this.lostFlag) return { kind: "lost" };
    if (p.waitSignal !== null || p.awaitJob !== null) {
      const numbered = this.number(records);
      return this.afterPark(await this.parkWaiting(p, numbered), numbered);
    }
    return this.parkAsIs(p, records);
  }

  /**
   * Parks with exactly these fields, never going on at once even when what the job waits on is
   * there: a worker that gives a job back untouched (its wait and timer kept for the next owner).
   */
  async parkAsIs(p: ParkFields, records: StreamRecord[] = []): Promise<ParkOutcome> {
    if (this.lostFlag) return { kind: "lost" };
    const numbered = this.number(records);
    const parked = await parkJob(this.pool, { ...p, id: this.id, epoch: this.epoch, worker: this.worker, records: numbered, consumeSignal: this.pendingSignal });
    if (!parked) {
      this.markLost();
      return { kind: "lost" };
    }
    this.committed(numbered);
    if (parked.status === "stopped") await wakeAwaiters(this.pool, [this.id]);
    return { kind: "parked", status: parked.status };
  }

  /**
   * `wait` and `await`, in one transaction. We lock our row first: a sender locks it before
   * putting a signal in the mailbox, so it has either committed (we see its signal) or will see
   * us waiting (and wake us); an awaited job's row is locked by `markAwaited`, so its final write
   * either committed first (we see it ended) or will see `awaited` and wake us.
   */
  private parkWaiting(p: ParkFields, numbered: NumberedRecord[]): Promise<ParkOutcome & { received?: string }> {
    return withTransaction(this.pool, async (client) => {
      if (!(await lockLeased(client, this.id, this.epoch))) return { kind: "lost" as const };
      if (this.pendingSignal) await consumeSignal(client, this.pendingSignal);
      let found: Found;
      let signalId: string | undefined;
      if (p.awaitJob !== null) {
        found = { awaited: await markAwaited(client, p.awaitJob) };
      } else {
        const signal = await peekSignal(client, this.id, p.waitSignal!);
        signalId = signal?.id;
        found = { signal: signal && { payload: signal.payload as Json } };
      }
      const settled = settle(p, found);
      const status = settled.kind === "go" ? "running" : settled.status;
      const parked = await parkJob(client, { ...p, status, id: this.id, epoch: this.epoch, worker: this.worker, records: numbered, consumeSignal: null });
      if (!parked) return { kind: "lost" as const };
      // An operator's control pending on the job parks it even when what it waits on is there.
      if (parked.status !== "running" || settled.kind !== "go") return { kind: "parked" as const, status: parked.status };
      return { kind: "continue" as const, input: settled.input, received: signalId };
    });
  }

  /**
   * Waiting at a `parallel for` (runtime/join.ts), in one transaction under our row lock: look
   * at the branches (each locked, as `markAwaited` does for `await`), stop them when one failed
   * under on_error "stop", start the next ones up to the limit, then either go on at once (the
   * join is settled: its results or error) or park waiting. Branch ids are stable per element,
   * and the inserts commit with our park or not at all, so no branch starts twice.
   * `newBranches`: the rows for the elements to start (the runner seals secret arguments).
   */
  async parkJoin(p: ParkFields, join: Join, records: StreamRecord[], newBranches: (indices: number[]) => NewBranch[]): Promise<ParkOutcome> {
    if (this.lostFlag) return { kind: "lost" };
    const numbered = this.number(records);
    const out = await withTransaction(this.pool, async (client): Promise<ParkOutcome> => {
      if (!(await lockLeased(client, this.id, this.epoch))) return { kind: "lost" };
      if (this.pendingSignal) await consumeSignal(client, this.pendingSignal);
      const step = planJoin(join, await lockBranches(client, this.id, join.key));
      if (step.stop) {
        for (const id of await unfinishedBranches(client, this.id, join.key)) await controlJob(client, id, "stop", `parallel for of job ${this.id}`);
      }
      if (step.start.length > 0) await insertBranches(client, { id: this.id, worker: this.worker }, join.runbook, join.key, newBranches(step.start));
      const parked = await parkJob(client, { ...p, status: step.settled ? "running" : p.status, id: this.id, epoch: this.epoch, worker: this.worker, records: numbered, consumeSignal: null });
      if (!parked) return { kind: "lost" };
      if (parked.status !== "running" || !step.settled) return { kind: "parked", status: parked.status };
      return { kind: "continue", input: step.settled };
    });
    return this.afterPark(out, numbered);
  }

  private async afterPark(out: ParkOutcome & { received?: string }, numbered: NumberedRecord[]): Promise<ParkOutcome> {
    if (out.kind === "lost") {
      this.markLost();
      return out;
    }
    this.committed(numbered);
    // A received signal is consumed by the job's next write.
    this.pendingSignal = (out.kind === "continue" && out.received) || null;
    if (out.kind === "parked" && out.status === "stopped") await wakeAwaiters(this.pool, [this.id]);
    return out.kind === "continue" ? { kind: "continue", input: out.input } : out;
  }

  /** The final status, through the batcher. Returns false when the lease was lost. */
  async finish(batcher: CompletionBatcher, f: Omit<Finish, "kind">, records: StreamRecord[]): Promise<boolean> {
    if (this.lostFlag) return false;
    const numbered = this.number(records);
    const c: Completion = { id: this.id, epoch: this.epoch, status: f.status, result: f.result, error: f.error, reason: f.reason, records: numbered, consumeSignal: this.pendingSignal };
    const ok = await batcher.add(c);
    if (!ok) {
      this.markLost();
      return false;
    }
    this.committed(numbered);
    return true;
  }

  /**
   * Stops running the job here (nothing more is written for it; activities in flight see
   * ctx.signal fire with `reason`) without giving it back yet: the worker releases it once its
   * runner has left (`release`), so a call still in flight never overlaps with the next owner.
   */
  interrupt(reason: string): void {
    this.releasedFlag = true;
    if (this.lostFlag) return;
    this.lostFlag = true;
    this.end(new Error(reason));
  }

  /** Hands the job back to the queue from its latest checkpoint, bumping the epoch. */
  async release(reason: string): Promise<boolean> {
    this.givingBack();
    return releaseLease(this.pool, this.id, this.epoch, this.worker, reason);
  }

  /** This worker gives the job back (the caller writes that, maybe for many jobs at once): from here on nothing of ours may be written for it. */
  givingBack(): void {
    this.releasedFlag = true;
    this.markLost();
  }
}
