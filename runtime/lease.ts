// A worker's hold on one claimed job: every write it makes for the job, each fenced by the lease
// epoch of its claim. The first write that finds the epoch changed (zero rows) marks the lease
// lost: the job stops running here at once and nothing more is written for it.
import type pg from "pg";
import type { Input, JobState, Json, StreamRecord } from "./abi.js";
import { withTransaction } from "./db/tx.js";
import type { JobStatus } from "./rows.js";
import type { CompletionBatcher } from "./batcher.js";
import type { ClaimedJob } from "./sql/claim.js";
import { writeCheckpoint, type NumberedRecord } from "./sql/checkpoint.js";
import { wakeAwaiters, type Completion } from "./sql/complete.js";
import { renewLease } from "./sql/workers.js";
import { consumeSignal, lockLeased, markAwaited, parkJob, peekSignal, releaseLease, type ParkWrite } from "./sql/park.js";

/**
 * A job parked on `await` is looked at again after this long even if no wake-up came: a worker
 * dying between a job's final write and the wake-up of its waiters (two statements) delays the
 * waiters by at most this, never forever.
 */
export const AWAIT_RECHECK_MS = 60_000;

/** How a park ended: the job waits elsewhere now, or it may go on at once with an input. */
export type ParkOutcome = { kind: "parked"; status: JobStatus } | { kind: "continue"; input: Input } | { kind: "lost" };

/**
 * The reason an operator's `runbook suspend` or `runbook stop` puts on a running job's abort
 * signal: its step ends at the next tick, and the runner parks it as the pending control says.
 */
export class OperatorControl extends Error {
  constructor(readonly action: "suspend" | "stop") {
    super(`the job was ${action === "stop" ? "stopped" : "suspended"} by an operator`);
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
  readonly abort = new AbortController();
  /**
   * Cancels its activities in flight (their ctx.signal): fired with `abort`, except for an
   * operator's suspend, which lets a call in flight finish (a killed `exec` would be an error
   * the runbook sees, and a suspended job must be able to go on as if nothing happened).
   */
  readonly cancel = new AbortController();

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
  operatorControl(action: "suspend" | "stop"): void {
    if (!this.abort.signal.aborted) this.abort.abort(new OperatorControl(action));
    // A stop after a suspend still cancels what is in flight.
    if (action === "stop" && !this.cancel.signal.aborted) this.cancel.abort(new OperatorControl(action));
  }

  /** The operator control that ended the job's step, if that is what ended it. */
  get operatorAction(): "suspend" | "stop" | null {
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
  async checkpoint(state: JobState, label: string | null, records: StreamRecord[]): Promise<"suspend" | "stop" | null | "lost"> {
    if (this.lostFlag) return "lost";
    const numbered = this.number(records);
    const r = await writeCheckpoint(this.pool, { id: this.id, epoch: this.epoch, state, label, records: numbered, consumeSignal: this.pendingSignal });
    if (!r) {
      this.markLost();
      return "lost";
    }
    this.committed(numbered);
    return r.control;
  }

  /** Parks the job (sleep, suspend, handover, control). */
  async park(p: Omit<ParkWrite, "id" | "epoch" | "worker" | "records" | "consumeSignal">, records: StreamRecord[] = []): Promise<ParkOutcome> {
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
   * `wait "NAME"`: commits the state; if the mailbox already holds a matching signal the job goes
   * on with it at once, else it parks as `waiting` (until a signal or the timeout).
   * `state` null re-parks a job woken early (keeping its checkpoint and timeout).
   */
  async wait(state: JobState | null, signal: string, timeoutMs: number | null, records: StreamRecord[]): Promise<ParkOutcome> {
    if (this.lostFlag) return { kind: "lost" };
    const numbered = this.number(records);
    let received: string | null = null;
    const out = await withTransaction(this.pool, async (client): Promise<ParkOutcome> => {
      // Lock our row first: a sender locks it before putting a signal in the mailbox, so it has
      // either committed (we see its signal below) or will see us waiting (and wake us).
      if (!(await lockLeased(client, this.id, this.epoch))) return { kind: "lost" };
      if (this.pendingSignal) await consumeSignal(client, this.pendingSignal);
      const found = await peekSignal(client, this.id, signal);
      const parked = await parkJob(client, {
        ...this.parkBase(state, numbered, `wait ${signal}`),
        status: found ? "running" : "waiting",
        waitSignal: signal,
        awaitJob: null,
        untilMs: state === null ? null : timeoutMs,
        keepUntil: state === null,
        reason: `waiting for signal ${signal}${timeoutMs === null ? "" : ` (timeout ${timeoutMs} ms)`}`,
      });
      if (!parked) return { kind: "lost" };
      if (parked.status !== "running" || !found) return { kind: "parked", status: parked.status };
      received = found.id;
      return { kind: "continue", input: { value: found.payload as Json } };
    });
    return this.afterPark(out, numbered, received);
  }

  /** `await JOB`: goes on at once if that job has ended, else parks as `waiting` on it. */
  async awaitJob(state: JobState | null, job: string, records: StreamRecord[]): Promise<ParkOutcome> {
    if (this.lostFlag) return { kind: "lost" };
    const numbered = this.number(records);
    const out = await withTransaction(this.pool, async (client): Promise<ParkOutcome> => {
      if (!(await lockLeased(client, this.id, this.epoch))) return { kind: "lost" };
      if (this.pendingSignal) await consumeSignal(client, this.pendingSignal);
      const child = await markAwaited(client, job);
      const ended = !child || child.status === "completed" || child.status === "failed" || child.status === "stopped";
      const parked = await parkJob(client, {
        ...this.parkBase(state, numbered, "await"),
        status: ended ? "running" : "waiting",
        waitSignal: null,
        awaitJob: job,
        // The awaited job's final write wakes us; the recheck is the fallback (see AWAIT_RECHECK_MS).
        untilMs: AWAIT_RECHECK_MS,
        keepUntil: false,
        reason: `awaiting job ${job}`,
      });
      if (!parked) return { kind: "lost" };
      if (parked.status !== "running") return { kind: "parked", status: parked.status };
      return { kind: "continue", input: awaitedInput(job, child) };
    });
    return this.afterPark(out, numbered, null);
  }

  /** Checkpoints made by sleep, wait, await and suspend are labelled with the statement. */
  private parkBase(state: JobState | null, records: NumberedRecord[], label: string) {
    return { id: this.id, epoch: this.epoch, worker: this.worker, state, label, records, consumeSignal: null };
  }

  private async afterPark(out: ParkOutcome, numbered: NumberedRecord[], received: string | null): Promise<ParkOutcome> {
    if (out.kind === "lost") {
      this.markLost();
      return out;
    }
    this.committed(numbered);
    this.pendingSignal = received;
    if (out.kind === "parked" && out.status === "stopped") await wakeAwaiters(this.pool, [this.id]);
    return out;
  }

  /** The final status, through the batcher. Returns false when the lease was lost. */
  async finish(batcher: CompletionBatcher, c: Omit<Completion, "id" | "epoch" | "records" | "consumeSignal">, records: StreamRecord[]): Promise<boolean> {
    if (this.lostFlag) return false;
    const numbered = this.number(records);
    const ok = await batcher.add({ ...c, id: this.id, epoch: this.epoch, records: numbered, consumeSignal: this.pendingSignal });
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
    this.releasedFlag = true;
    this.markLost(); // from here on nothing of ours may be written for it
    return releaseLease(this.pool, this.id, this.epoch, this.worker, reason);
  }
}

/** The value (or error) an `await` delivers for a job that has ended. */
export function awaitedInput(job: string, child: { status: JobStatus; result: unknown; error: unknown } | null): Input {
  if (!child) return { error: { message: `no job ${job} to await`, runbook: "", file: "", line: 0, column: 0, data: null } };
  if (child.status === "completed") return { value: (child.result ?? null) as Json };
  if (child.status === "failed" && child.error) return { error: child.error as never };
  return { error: { message: `awaited job ${job} was stopped`, runbook: "", file: "", line: 0, column: 0, data: { job } } };
}
