// The job protocol, as pure functions: what each suspension point or ending writes, and what a
// job continues with when it is claimed again. The Postgres worker (runner.ts decides, lease.ts
// performs the writes fenced by the lease epoch) and the in-memory executor (memory.ts) both
// call these, so the two cannot drift. Nothing here reads a clock or a database.
//
// `parkPlan(outcome)`: what a driver outcome writes
//   outcome      state (label)        status     waits on     timer                 reason
//   checkpoint   new (its label)      running    -            -                     (then `afterCheckpoint`)
//   sleep MS     new ("sleep")        sleeping   -            MS (at least 0)       sleeping MS ms
//   wait S [T]   new ("wait S")       waiting*   signal S     T, or none            waiting for signal S (timeout T ms)
//   await J      new ("await")        waiting*   job J        AWAIT_RECHECK_MS      awaiting job J
//   parallel     new ("parallel")     waiting**  its branches AWAIT_RECHECK_MS      waiting for the branches ...
//   suspend [R]  new ("suspend")      suspended  -            -                     suspend: R | suspend statement
//   completed    final: result        completed  -            -                     completed
//   failed       final: error         failed     -            -                     failed: MESSAGE
//   interrupted  kept (latest)        queued     -            -                     interrupted: WHY | operator ACTION cancelled: ...
//   * `settle`: found under the job's row lock (the first unconsumed signal S, J ended), the
//     job goes on at once instead (status running) with the payload, or J's result or error.
//   ** lease.ts `parkJoin` (memory.ts alike): starts branches and, when the join is settled
//     (runtime/join.ts `planJoin`), goes on at once instead with the results or the error.
// `afterCheckpoint(control, handOver)`: an operator's pending suspend or stop parks the job
//   `suspended` ("operator control"; the statement makes it suspended or stopped); else a
//   handover parks it as the worker says; else it runs on.
// An operator's control pending on the job overrides any park's status (sql/park.ts). Stream
// records are written with a new state; a park that keeps the latest checkpoint writes none (the
// run after it is redone, records and all).
//
// `resumeInput(parked, found)`: what a claimed job continues with
//   parked on               found                       continues with
//   await J                 J ended, or no job J         J's result, or an error (awaitedInput)
//   await J                 J not ended                  parks again on J (recheck timer anew)
//   wait S                  signal S in the mailbox      parks again on S: `settle` goes on with it
//   wait S, timer over      no signal                    null (the timeout path)
//   wait S, timer running   no signal (woken early)      parks again on S, same timer
//   timer running (sleep)   -                            parks again sleeping, same timer ("sleep not over")
//   anything else           -                            nothing (undefined)
import type { ErrorRecord, Input, JobState, Join, Json, Outcome } from "./abi.js";
import { assertNever } from "./never.js";
import { FINISHED, type JobStatus } from "./rows.js";
import { AWAIT_RECHECK_MS } from "./settings.js";
import type { ParkWrite } from "./sql/park.js";

/** A parked job's timer: set from now (ms, database clock), kept as stored (a re-park), or none. */
export type Timer = { kind: "none" } | { kind: "in"; ms: number } | { kind: "keep" };

/** A park: the job stops running here and waits in the queue (unless `settle` lets it go on). */
export interface Park {
  kind: "park";
  /** "new": commits the state the driver returned, with `label`; "keep": the latest checkpoint stays. */
  state: "new" | "keep";
  label: string | null;
  status: "queued" | "sleeping" | "waiting" | "suspended";
  waitSignal: string | null;
  awaitJob: string | null;
  timer: Timer;
  /** For the job's history. */
  reason: string;
}

/** A plain checkpoint: the state with its label; the job keeps its lease and runs on. */
export interface CheckpointPlan {
  kind: "checkpoint";
  label: string | null;
}

/** The job's final status (with its last stream records). */
export interface Finish {
  kind: "finish";
  status: "completed" | "failed";
  result: Json | null;
  error: ErrorRecord | null;
  reason: string;
}

export type Plan = CheckpointPlan | Park | Finish;

/** An operator's suspend or stop, pending on the job or ending its step. */
export type OperatorAction = "suspend" | "stop";

/** Where a job goes at its checkpoint instead of running on (a slot moved, the worker stops). */
export type HandOver = { status: "queued" | "suspended"; reason: string } | null;

/**
 * What a driver outcome writes. `operatorAction`: the operator control that ended the step,
 * when the outcome is `interrupted` and the lease is still ours.
 */
export function parkPlan(outcome: Outcome, operatorAction: OperatorAction | null = null): Plan {
  switch (outcome.kind) {
    case "checkpoint":
      return { kind: "checkpoint", label: outcome.label };
    case "sleep":
      return park("new", "sleep", "sleeping", { timer: { kind: "in", ms: Math.max(0, outcome.ms) }, reason: `sleeping ${outcome.ms} ms` });
    case "wait":
      return waitPark("new", outcome.signal, outcome.timeoutMs);
    case "await":
      return awaitPark("new", outcome.job);
    case "parallel":
      return joinPark("new", outcome.join);
    case "suspend":
      return park("new", "suspend", "suspended", { reason: outcome.reason ? `suspend: ${outcome.reason}` : "suspend statement" });
    case "completed":
      return { kind: "finish", status: "completed", result: outcome.result, error: null, reason: "completed" };
    case "failed":
      return { kind: "finish", status: "failed", result: null, error: outcome.error, reason: `failed: ${outcome.error.message}` };
    case "interrupted":
      // An operator's suspend or stop (or a handover interruption) ended a step before any
      // checkpoint: park from the latest checkpoint, with none of this run's records (redone on
      // resume). The control still pending makes it `suspended` or `stopped`; one cancelled
      // meanwhile (`runbook resume`) leaves it queued, to go on from that checkpoint.
      return park("keep", null, "queued", {
        reason: operatorAction ? `operator ${operatorAction} cancelled: continues from its latest checkpoint` : `interrupted: ${outcome.reason}`,
      });
    default:
      return assertNever(outcome, "driver outcome");
  }
}

/** After a committed checkpoint: park for an operator's pending control or a handover, else null (run on). */
export function afterCheckpoint(control: OperatorAction | null, handOver: HandOver): Park | null {
  if (control) return park("keep", null, "suspended", { reason: "operator control" });
  if (handOver) return park("keep", null, handOver.status, { reason: handOver.reason });
  return null;
}

/** An awaited job as read: its status and ending. */
export interface AwaitedJob {
  status: JobStatus;
  result: unknown;
  error: unknown;
}

/** What a waiting job's park or resume finds: the mailbox, the awaited job. */
export interface Found {
  /** The first unconsumed signal of the awaited name in the job's mailbox (for a wait). */
  signal?: { payload: Json } | null;
  /** The awaited job (null: there is no such job) (for an await). */
  awaited?: AwaitedJob | null;
}

/** A park settled: the job goes on at once with an input, or stays parked with its status. */
export type Settled<S = Park["status"]> = { kind: "go"; input: Input } | { kind: "park"; status: S };

/**
 * A park that waits on something goes on at once when it is already there, as found under the
 * job's row lock: a matching signal (its payload; consumed by the job's next write), or the
 * awaited job's ending. Any other park stays parked.
 */
export function settle<S>(p: { status: S; waitSignal: string | null; awaitJob: string | null }, found: Found): Settled<S> {
  if (p.awaitJob !== null && hasEnded(found.awaited)) return { kind: "go", input: awaitedInput(p.awaitJob, found.awaited ?? null) };
  if (p.waitSignal !== null && found.signal) return { kind: "go", input: { value: found.signal.payload } };
  return { kind: "park", status: p.status };
}

/** What a claimed job was parked on: its row (sql/claim.ts) or the in-memory executor's record. */
export interface Parked {
  waitSignal: string | null;
  awaitJob: string | null;
  /** Its sleep's end or wait's timeout: none, still to come, or come (database clock). */
  timer: "none" | "running" | "over";
}

/** A claimed job goes on with an input, or parks again (a park that `settle` may still let go on). */
export type Resume = { kind: "go"; input: Input } | { kind: "park"; park: Park };

/** What a claimed job continues with, from what it was parked on and what is there now. */
export function resumeInput(parked: Parked, found: Found): Resume {
  if (parked.awaitJob !== null) {
    if (hasEnded(found.awaited)) return { kind: "go", input: awaitedInput(parked.awaitJob, found.awaited ?? null) };
    // Not ended: await on. (It may end meanwhile: `settle` then lets the job go on at once.)
    return { kind: "park", park: awaitPark("keep", parked.awaitJob) };
  }
  if (parked.waitSignal !== null) {
    // With the signal there, parking again goes on at once with it (`settle`), so it is consumed
    // by the job's next write exactly like a wait that finds its signal at once.
    if (!found.signal && parked.timer === "over") return { kind: "go", input: { value: null } };
    // Woken early (an operator's resume): wait on, unless the signal came meanwhile.
    return { kind: "park", park: waitPark("keep", parked.waitSignal, null) };
  }
  if (parked.timer === "running") return { kind: "park", park: park("keep", null, "sleeping", { timer: { kind: "keep" }, reason: "sleep not over" }) };
  return { kind: "go", input: undefined };
}

/** The park statement's fields for a plan (sql/park.ts): `state` is written only when the plan commits it. */
export type ParkFields = Omit<ParkWrite, "id" | "epoch" | "worker" | "records" | "consumeSignal">;

export function parkFields(p: Park, state: JobState): ParkFields {
  return {
    state: p.state === "new" ? state : null,
    label: p.label,
    status: p.status,
    waitSignal: p.waitSignal,
    awaitJob: p.awaitJob,
    untilMs: p.timer.kind === "in" ? p.timer.ms : null,
    keepUntil: p.timer.kind === "keep",
    reason: p.reason,
  };
}

/** A claimed row's park fields as `Parked`. */
export function parkedRow(row: { wait_signal: string | null; await_job: string | null; has_timer: boolean; timed_out: boolean }): Parked {
  return { waitSignal: row.wait_signal, awaitJob: row.await_job, timer: !row.has_timer ? "none" : row.timed_out ? "over" : "running" };
}

/** The value (or error) an `await` delivers for a job that has ended, or does not exist. */
export function awaitedInput(job: string, child: AwaitedJob | null): Input {
  if (!child) return { error: { message: `no job ${job} to await`, runbook: "", file: "", line: 0, column: 0, data: null } };
  if (child.status === "completed") return { value: (child.result ?? null) as Json };
  if (child.status === "failed" && child.error) return { error: child.error as ErrorRecord };
  return { error: { message: `awaited job ${job} was stopped`, runbook: "", file: "", line: 0, column: 0, data: { job } } };
}

/** Ended (completed, failed, stopped) or missing: an `await` of it goes on. */
function hasEnded(child: AwaitedJob | null | undefined): boolean {
  return child === null || (child !== undefined && FINISHED.includes(child.status));
}

function waitPark(state: Park["state"], signal: string, timeoutMs: number | null): Park {
  // A re-park keeps the stored timeout: an operator's resume does not restart the wait's clock.
  const timer: Timer = state === "keep" ? { kind: "keep" } : timeoutMs === null ? { kind: "none" } : { kind: "in", ms: timeoutMs };
  return park(state, `wait ${signal}`, "waiting", {
    waitSignal: signal,
    timer,
    reason: `waiting for signal ${signal}${timeoutMs === null ? "" : ` (timeout ${timeoutMs} ms)`}`,
  });
}

/**
 * Waiting at a `parallel for` (runtime/join.ts): a branch's final write wakes the parent
 * (sql/complete.ts `wakeAwaiters`); the recheck is the fallback, as for `await`. It waits on no
 * job and no signal: lease.ts `parkJoin` writes it, having started and looked at the branches.
 */
export function joinPark(state: Park["state"], join: Join): Park {
  return park(state, "parallel", "waiting", { timer: { kind: "in", ms: AWAIT_RECHECK_MS }, reason: `waiting for the branches of parallel for (${join.args.length} elements)` });
}

function awaitPark(state: Park["state"], job: string): Park {
  // The awaited job's final write wakes us; the recheck is the fallback (see AWAIT_RECHECK_MS).
  return park(state, "await", "waiting", { awaitJob: job, timer: { kind: "in", ms: AWAIT_RECHECK_MS }, reason: `awaiting job ${job}` });
}

function park(state: Park["state"], label: string | null, status: Park["status"], more: Partial<Pick<Park, "waitSignal" | "awaitJob" | "timer">> & { reason: string }): Park {
  return { kind: "park", state, label, status, waitSignal: null, awaitJob: null, timer: { kind: "none" }, ...more };
}
