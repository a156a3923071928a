// Running one claimed job: from its latest checkpoint (or its start) through the driver
// (runtime/driver.ts `resume`) to each suspension point, writing what each one means, until the
// job parks, ends, is handed over, or its lease is lost.
import type { CompiledRunbook, ErrorRecord, Input, JobState, Join, Json, Outcome, StreamRecord } from "./abi.js";
import type { ActivityHost, JobActivities } from "./activities.js";
import type { CheckpointBatcher, CompletionBatcher } from "./batcher.js";
import { initialState, internalError, resume, type DriverContext } from "./driver.js";
import { UnstorableValue } from "./json-text.js";
import type { JobLease, ParkOutcome } from "./lease.js";
import { assertNever } from "./never.js";
import { afterCheckpoint, joinPark, parkedRow, parkFields, parkPlan, resumeInput, type Found, type HandOver, type Park } from "./protocol.js";
import { branchId, elementLabel, joinOf } from "./join.js";
import type { NewBranch } from "./sql/branches.js";
import type { Program, Programs } from "./programs.js";
import { describeDrift, type Pins } from "./activity-pins.js";
import { noteHistory } from "./sql/history.js";
import type { ClaimedJob } from "./sql/claim.js";
import { insertChildJob } from "./sql/enqueue.js";
import { awaitedJob, peekSignal } from "./sql/park.js";
import { mayHoldSecret, maskSecrets, secretKey, secretKeys } from "./builtins/asset.js";
import { openState, sealState, type StoredState } from "./sealed-state.js";
import type pg from "pg";

/** What a running job needs from its worker. */
export interface RunnerEnv {
  pool: pg.Pool;
  worker: string;
  programs: Programs;
  completions: CompletionBatcher;
  checkpoints: CheckpointBatcher;
  activities: ActivityHost;
  /** Why the job must leave this worker at its next checkpoint (slot moved, draining), or null. */
  handOver(slot: number): HandOver;
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
  // The texts of the secrets the job holds: sealed in every state it writes (sealed-state.ts).
  const held = new Set<string>();
  const keyText = env.activities.options.secretKey;
  if (claim.state === null) {
    state = initialState(claim.runbook, claim.params);
  } else {
    const problem = corruptState(claim.state);
    if (problem) return finish("failed", null, jobError(claim, `the job's checkpoint is corrupt (${problem}); it cannot continue`), [], "corrupt checkpoint");
    try {
      const opened = openState(claim.state, claim.id, () => secretKeys(keyText));
      state = opened.state;
      for (const t of opened.secrets) held.add(t);
    } catch (e) {
      // A worker without the key (or with a wrong one) must not lose the job: it waits,
      // suspended with its checkpoint intact, for an operator to fix the key and resume it.
      const reason = `its checkpoint holds sealed secrets this worker cannot open (${(e as Error).message}); set RUNBOOK_SECRET_KEY on the workers, then runbook resume ${claim.id}`;
      await lease.park({ state: null, label: null, status: "suspended", waitSignal: null, awaitJob: null, untilMs: null, keepUntil: false, reason });
      return;
    }
  }
  const seal = (s: JobState, jobId = claim.id): StoredState => sealState(s, jobId, held, () => secretKey(keyText));

  let activities: JobActivities | undefined;
  let records: StreamRecord[] = [];
  const jobActivities = async () =>
    (activities ??= await env.activities.forJob({
      jobId: claim.id,
      worker: env.worker,
      leaseEpoch: claim.lease_epoch,
      log: (message) => records.push({ stream: "log", value: message }),
      runbooks: [...program.values()],
      secrets: held,
      onSecret: (texts) => texts.forEach((t) => held.add(t)),
    }));
  // Lost lease, interruption or operator stop (not a suspend): activities in flight see
  // ctx.signal fire, with the reason.
  lease.cancel.onStop(() => activities?.abort((lease.cancel.reason as Error | undefined)?.message ?? "the job is stopping"));
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
      // Arguments holding a secret reach the child through its sealed first state; its stored
      // parameters show them masked.
      const first = seal(initialState(runbook, args), id);
      const child = first.sealed === undefined ? { id, runbook, params: args } : { id, runbook, params: maskSecrets(args, held) as Record<string, Json>, state: first };
      // A database error (an outage, the session ended) loses the job here, as in
      // lease.confirm(): it must not fail the job. It resumes from its latest checkpoint once the
      // lease expires, and the child's stable id keeps it from starting twice.
      const r = await insertChildJob(env.pool, { id: claim.id, epoch: claim.lease_epoch, worker: env.worker }, child).catch(() => "lost" as const);
      if (r === "lost") {
        lease.markLost();
        throw new Error("the job's lease was lost");
      }
      return id;
    },
  };

  // The rows of a `parallel for`'s branches: like a `start`ed child, a branch whose arguments
  // hold a secret gets them through its sealed first state, its stored parameters masked.
  const branches = (join: Join) => (indices: number[]): NewBranch[] =>
    indices.map((index) => {
      const id = branchId(claim.id, join.key, index);
      const args = join.args[index];
      const first = seal(initialState(join.runbook, args), id);
      const label = elementLabel(join.elements[index] ?? null);
      return first.sealed === undefined ? { id, index, label, params: args } : { id, index, label, params: maskSecrets(args, held) as Record<string, Json>, state: first };
    });

  // A version that pins no activity module has nothing to compare: no await for it per job.
  if (Object.keys(version.activities).length > 0 && !(await pinnedActivitiesMatch(env, claim, lease, version, release))) return;
  const waitingJoin = joinOf(state);
  let input = waitingJoin ? await joinAfterClaim(lease, state, waitingJoin, branches(waitingJoin)) : await inputAfterClaim(env, claim, lease, state);
  if (input === null) return; // parked again, or lost

  for (;;) {
    records = [];
    const { outcome } = await resume(state, program, ctx, input);
    input = undefined;
    if (lease.lost) return; // someone else owns the job now: write nothing
    // No secret reaches the database in a stream, result or error.
    const secretive = outcome.kind === "failed" || (outcome.kind === "completed" && mayHoldSecret(outcome.result));
    const masking = secretive || (outcome.kind === "suspend" && outcome.reason !== null && mayHoldSecret(outcome.reason));
    const ending = masking ? (await jobActivities()).maskOutcome(outcome) : outcome;
    const stored = ending.kind === "completed" || ending.kind === "failed" || ending.kind === "interrupted" ? state : seal(state);
    let out: ParkOutcome;
    try {
      out =
        ending.kind === "parallel"
          ? await lease.parkJoin(parkFields(parkPlan(ending) as Park, stored), ending.join, await masked(records), branches(ending.join))
          : await commit(env, claim, lease, stored, ending, await masked(records), release);
    } catch (e) {
      if (!(e instanceof UnstorableValue)) throw e;
      // Resuming from the latest checkpoint would reach the same value again: the job fails
      // there instead, with none of this segment's records (memory.ts does the same).
      return finish("failed", null, internalError(e.message, state.frames[state.frames.length - 1], program), [], "a value could not be stored");
    }
    if (out.kind !== "continue") return;
    input = out.input;
  }
}

/** Writes what one suspension point (or the end) means; says whether the job goes on here. */
async function commit(
  env: RunnerEnv,
  claim: ClaimedJob,
  lease: JobLease,
  state: StoredState,
  outcome: Outcome,
  records: StreamRecord[],
  release: () => void,
): Promise<ParkOutcome> {
  // An `interrupted` outcome here means the lease is still ours (a lost one returned before
  // this): an operator's suspend or stop, or one cancelled meanwhile, ended the step.
  const plan = parkPlan(outcome, lease.operatorAction);
  switch (plan.kind) {
    case "checkpoint": {
      const control = await lease.checkpoint(env.checkpoints, state, plan.label, records);
      if (control === "lost") return { kind: "lost" };
      const then = afterCheckpoint(control, control ? null : env.handOver(claim.slot));
      return then ? lease.park(parkFields(then, state)) : { kind: "continue", input: undefined };
    }
    case "park":
      // A park that keeps the latest checkpoint drops this run's records: they are redone from it.
      return lease.park(parkFields(plan, state), plan.state === "new" ? records : []);
    case "finish":
      release();
      await lease.finish(env.completions, plan, records);
      return { kind: "parked", status: plan.status };
    default:
      return assertNever(plan, "plan");
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
      await lease.parkAsIs({
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
 * The input a claimed job continues with (runtime/protocol.ts `resumeInput`), from what it was
 * parked on and what its mailbox or awaited job holds now; null when it parked again (woken
 * before its timer or wait was over, by an operator's resume) or its lease was lost.
 */
async function inputAfterClaim(env: RunnerEnv, claim: ClaimedJob, lease: JobLease, state: JobState): Promise<Input | null> {
  const parked = parkedRow(claim);
  const found: Found = {};
  if (parked.awaitJob !== null) found.awaited = await awaitedJob(env.pool, parked.awaitJob);
  if (parked.waitSignal !== null) {
    const signal = await peekSignal(env.pool, claim.id, parked.waitSignal);
    found.signal = signal && { payload: signal.payload as Json };
  }
  const next = resumeInput(parked, found);
  if (next.kind === "go") return next.input;
  const out = await lease.park(parkFields(next.park, state));
  return out.kind === "continue" ? out.input : null;
}

/** A job claimed while it waits at a `parallel for`: look at its branches again (lease.ts `parkJoin`). */
async function joinAfterClaim(lease: JobLease, state: JobState, join: Join, branches: (indices: number[]) => NewBranch[]): Promise<Input | null> {
  const out = await lease.parkJoin(parkFields(joinPark("keep", join), state), join, [], branches);
  return out.kind === "continue" ? out.input : null;
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
