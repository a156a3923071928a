// Running one claimed job: from its latest checkpoint (or its start) through the driver
// (runtime/driver.ts `resume`) to each suspension point, writing what each one means, until the
// job parks, ends, is handed over, or its lease is lost.
import type { CompiledRunbook, ErrorRecord, Input, JobState, Json, Outcome, StreamRecord } from "./abi.js";
import type { ActivityHost, JobActivities } from "./activities.js";
import type { CompletionBatcher } from "./batcher.js";
import { initialState, resume, type DriverContext } from "./driver.js";
import { JobLease, awaitedInput, type ParkOutcome } from "./lease.js";
import type { Program, Programs } from "./programs.js";
import { describeDrift, type Pins } from "./activity-pins.js";
import { noteHistory } from "./sql/history.js";
import type { ClaimedJob } from "./sql/claim.js";
import { insertChildJob } from "./sql/enqueue.js";
import { awaitedJob, peekSignal } from "./sql/park.js";
import { mayHoldSecret } from "./builtins/asset.js";
import type pg from "pg";

/** What a running job needs from its worker. */
export interface RunnerEnv {
  pool: pg.Pool;
  worker: string;
  programs: Programs;
  completions: CompletionBatcher;
  activities: ActivityHost;
  /** Why the job must leave this worker at its next checkpoint (slot moved, draining), or null. */
  handOver(slot: number): { status: "queued" | "suspended"; reason: string } | null;
  /** The job no longer occupies a concurrency slot (its final write may still be in flight). */
  released(): void;
  /**
   * This worker's activity modules differ from the version's pins and it refuses its jobs: claim
   * none of them until the modules match (runtime/worker.ts).
   */
  refuseVersion?(version: string, pins: Pins): void;
}

/** Runs the job until it leaves this worker. Never throws for anything the job did. */
export async function runJob(env: RunnerEnv, claim: ClaimedJob, lease: JobLease): Promise<void> {
  let releasedFlag = false;
  const release = () => {
    if (!releasedFlag) (releasedFlag = true), env.released();
  };
  try {
    await run(env, claim, lease, release);
  } finally {
    release();
  }
}

async function run(env: RunnerEnv, claim: ClaimedJob, lease: JobLease, release: () => void): Promise<void> {
  const finish = async (status: "completed" | "failed", result: Json | null, error: ErrorRecord | null, records: StreamRecord[], reason: string) => {
    release();
    await lease.finish(env.completions, { status, result, error, reason }, records);
  };

  let version: Program;
  try {
    version = await env.programs.version(claim.version);
  } catch (e) {
    return finish("failed", null, jobError(claim, (e as Error).message), [], "version could not be loaded");
  }
  const program: Map<string, CompiledRunbook> = version.runbooks;
  if (!program.get(claim.runbook)) {
    return finish("failed", null, jobError(claim, `runbook ${claim.runbook} is not part of version ${claim.version.slice(0, 12)}`), [], "runbook missing from its version");
  }
  let state: JobState;
  if (claim.state === null) {
    state = initialState(claim.runbook, claim.params);
  } else {
    const problem = corruptState(claim.state);
    if (problem) return finish("failed", null, jobError(claim, `the job's checkpoint is corrupt (${problem}); it cannot continue`), [], "corrupt checkpoint");
    state = claim.state;
  }

  let activities: JobActivities | undefined;
  let records: StreamRecord[] = [];
  const jobActivities = async () =>
    (activities ??= await env.activities.forJob({
      jobId: claim.id,
      worker: env.worker,
      leaseEpoch: claim.lease_epoch,
      log: (message) => records.push({ stream: "log", value: message }),
      runbooks: [...program.values()],
    }));
  // Lost lease, interruption or operator stop (not a suspend): activities in flight see
  // ctx.signal fire, with the reason.
  lease.cancel.signal.addEventListener("abort", () => activities?.abort((lease.cancel.signal.reason as Error | undefined)?.message ?? "the job is stopping"));
  // Every secret the database holds is masked, not only those this run read: a secret read
  // before a checkpoint (on any worker) may be written after it from a local.
  const masked = async (rs: StreamRecord[]) => {
    if (!rs.some((r) => mayHoldSecret(r.value))) return rs;
    const a = await jobActivities();
    return rs.map((r) => ({ stream: r.stream, value: a.mask(r.value) }));
  };

  const ctx: DriverContext = {
    // A step without suspension points still yields at every tick; this ends it there.
    signal: lease.abort.signal,
    emit: (record) => records.push(record),
    activity: async (module, fn, args, caller, attempt) => {
      const a = await jobActivities();
      // A worker back from a pause longer than its lease must not start the next activity.
      if (!(await lease.confirm())) throw new Error("the job's lease was lost");
      // The caller says which `use` module the alias names (two runbooks may bind one alias).
      return a.activity(module, fn, args, caller, attempt);
    },
    start: async (runbook, args, seq) => {
      if (!program.get(runbook)) throw new Error(`runbook ${runbook} is not part of this job's version`);
      const id = `${claim.id}/${seq}`;
      const r = await insertChildJob(env.pool, { id: claim.id, epoch: claim.lease_epoch, worker: env.worker }, { id, runbook, params: args });
      if (r === "lost") {
        lease.markLost();
        throw new Error("the job's lease was lost");
      }
      return id;
    },
  };

  if (!(await pinnedActivitiesMatch(env, claim, lease, version, release))) return;
  let input = await inputAfterClaim(env, claim, lease);
  if (input === null) return; // parked again, or lost

  for (;;) {
    records = [];
    const { outcome } = await resume(state, program, ctx, input);
    input = undefined;
    if (lease.lost) return; // someone else owns the job now: write nothing
    // No secret reaches the database in a stream, result or error.
    const secretive = outcome.kind === "failed" || (outcome.kind === "completed" && mayHoldSecret(outcome.result));
    const ending = secretive ? (await jobActivities()).maskOutcome(outcome) : outcome;
    const out = await commit(env, claim, lease, state, ending, await masked(records), release);
    if (out.kind !== "continue") return;
    input = out.input;
  }
}

/** Writes what one suspension point (or the end) means; says whether the job goes on here. */
async function commit(
  env: RunnerEnv,
  claim: ClaimedJob,
  lease: JobLease,
  state: JobState,
  outcome: Outcome,
  records: StreamRecord[],
  release: () => void,
): Promise<ParkOutcome> {
  const none = { waitSignal: null, awaitJob: null, untilMs: null, keepUntil: false };
  switch (outcome.kind) {
    case "checkpoint": {
      const control = await lease.checkpoint(state, outcome.label, records);
      if (control === "lost") return { kind: "lost" };
      if (control) return lease.park({ state: null, label: null, status: "suspended", ...none, reason: "operator control" });
      const handOver = env.handOver(claim.slot);
      if (handOver) return lease.park({ state: null, label: null, status: handOver.status, ...none, reason: handOver.reason });
      return { kind: "continue", input: undefined };
    }
    case "sleep":
      return lease.park({ state, label: "sleep", status: "sleeping", ...none, untilMs: Math.max(0, outcome.ms), reason: `sleeping ${outcome.ms} ms` }, records);
    case "suspend":
      return lease.park({ state, label: "suspend", status: "suspended", ...none, reason: outcome.reason ? `suspend: ${outcome.reason}` : "suspend statement" }, records);
    case "wait":
      return lease.wait(state, outcome.signal, outcome.timeoutMs, records);
    case "await":
      return lease.awaitJob(state, outcome.job, records);
    case "completed":
      release();
      await lease.finish(env.completions, { status: "completed", result: outcome.result, error: null, reason: "completed" }, records);
      return { kind: "parked", status: "completed" };
    case "failed":
      release();
      await lease.finish(env.completions, { status: "failed", result: null, error: outcome.error, reason: `failed: ${outcome.error.message}` }, records);
      return { kind: "parked", status: "failed" };
    case "interrupted": {
      // The lease is still ours (a lost one returned before this), so an operator's suspend or
      // stop ended a step at a tick, before any checkpoint: park from the latest checkpoint with
      // none of this run's records (redone on resume). The control still pending makes it
      // `suspended` or `stopped`; one cancelled meanwhile (`runbook resume`) leaves it queued, to
      // go on from that checkpoint.
      const action = lease.operatorAction;
      const reason = action ? `operator ${action} cancelled: continues from its latest checkpoint` : `interrupted: ${outcome.reason}`;
      return lease.park({ state: null, label: null, status: "queued", ...none, reason });
    }
  }
}

/**
 * Checks the version's pinned activity modules against this worker's (docs/activities.md,
 * "Pinned activity code"). On a difference the job either goes back to the queue untouched (its
 * wait, timer and checkpoint kept) with the reason in its history, and this worker claims no job
 * of the version until its modules match; or, for a version published with
 * `--run-changed-activities`, runs here with a line in its history saying so. False: the job
 * left this worker.
 */
async function pinnedActivitiesMatch(env: RunnerEnv, claim: ClaimedJob, lease: JobLease, version: Program, release: () => void): Promise<boolean> {
  const drift = await env.activities.pins.drift(version.activities);
  if (drift.length === 0) return true;
  const why = describeDrift(drift);
  switch (version.activityDrift) {
    case "refuse": {
      env.refuseVersion?.(claim.version, version.activities);
      release();
      await lease.park({
        state: null,
        label: null,
        status: "queued",
        waitSignal: claim.wait_signal,
        awaitJob: claim.await_job,
        untilMs: null,
        keepUntil: true,
        reason: `${why}: waiting for a worker whose module matches`,
      });
      return false;
    }
    case "run": {
      const reason = `${why}: running it anyway (published with --run-changed-activities)`;
      if (await noteHistory(env.pool, { id: claim.id, epoch: claim.lease_epoch, worker: env.worker, reason })) return true;
      lease.markLost();
      return false;
    }
  }
}

/**
 * The input a claimed job continues with, from what it was parked on: a signal from its mailbox
 * (or null when its wait timed out), an awaited job's ending. A job woken before its timer or
 * wait is over (an operator's resume) is parked again: returns null.
 */
async function inputAfterClaim(env: RunnerEnv, claim: ClaimedJob, lease: JobLease): Promise<Input | null> {
  if (claim.await_job) {
    const child = await awaitedJob(env.pool, claim.await_job);
    const ended = !child || ["completed", "failed", "stopped"].includes(child.status);
    if (ended) return awaitedInput(claim.await_job, child);
    // Not ended: await on. (It may end meanwhile: then this goes on at once.)
    const out = await lease.awaitJob(null, claim.await_job, []);
    return out.kind === "continue" ? out.input : null;
  }
  if (claim.wait_signal) {
    if (await peekSignal(env.pool, claim.id, claim.wait_signal)) {
      // Through lease.wait, so the signal is consumed with the job's next write, exactly like a
      // wait that finds its signal at once; state null keeps the stored checkpoint.
      const out = await lease.wait(null, claim.wait_signal, null, []);
      return out.kind === "continue" ? out.input : null;
    }
    if (claim.timed_out) return { value: null };
    // Woken early (an operator's resume): wait on, unless the signal came meanwhile.
    const out = await lease.wait(null, claim.wait_signal, null, []);
    return out.kind === "continue" ? out.input : null;
  }
  if (claim.has_timer && !claim.timed_out) {
    await lease.park({ state: null, label: null, status: "sleeping", waitSignal: null, awaitJob: null, untilMs: null, keepUntil: true, reason: "sleep not over" });
    return null;
  }
  return undefined;
}

function jobError(claim: ClaimedJob, message: string): ErrorRecord {
  return { message, runbook: claim.runbook, file: "", line: 0, column: 0, data: null };
}

/** What is wrong with a stored checkpoint, or null if it has the JobState shape. */
function corruptState(state: unknown): string | null {
  if (typeof state !== "object" || state === null || Array.isArray(state)) return "not an object";
  const s = state as Partial<JobState>;
  if (typeof s.seq !== "number") return "no sequence number";
  if (!Array.isArray(s.frames) || s.frames.length === 0) return "no frames";
  for (const f of s.frames) {
    if (typeof f !== "object" || f === null || typeof f.runbook !== "string" || typeof f.pc !== "number" || typeof f.locals !== "object" || f.locals === null) {
      return "a malformed frame";
    }
  }
  return null;
}
