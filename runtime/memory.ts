// The in-memory executor: runs a job to its end with the driver (runtime/driver.ts) and no
// database, for `runbook test` and the test suites.
//
// It behaves like the worker with a store that is only a JSON text, encoded and decoded by the
// same functions as the database's columns (runtime/json-text.ts), so whatever a stored value
// looks like after a resume in production, it looks like that here: sleeps end at once, `wait`
// takes a signal from the job's mailbox or its timeout path (null), `start` records a child job
// and `await` runs that child to its end, `parallel for` starts its branches (runtime/join.ts
// decides which, as for the worker) and runs them one by one to their end, each with the same
// interruptions as any job; `suspend` resumes at once. Three modes:
// - straight: the state stays a live object from start to end;
// - every-suspension: at every suspension point the whole store goes through JSON and every
//   in-memory object (state, context, ops) is dropped; a fresh context resumes from the text;
// - before-checkpoint: each segment (from one committed suspension point to the next) runs,
//   is thrown away with its stream records as if the worker died just before committing, and
//   runs again from the committed text, which is then committed. Each segment runs twice.
//
// Determinism (so interrupted runs can match the straight run): `now()` reads a virtual clock
// and `uuid()` a counter, both kept in the store and so committed with each checkpoint. The
// clock starts at 2026-01-01T00:00:00.000Z and moves only when a sleep ends (by its duration)
// or a wait times out (by its timeout); `uuid()` gives 00000000-0000-4000-8000-<counter>.
import { RunbookFault, type CompiledRunbook, type ErrorRecord, type Input, type Join, type Json, type JobState, type Ops, type Outcome, type StreamRecord } from "./abi.js";
import { branchId, elementLabel, planJoin, type BranchRow } from "./join.js";
import { activityResult, initialState, internalError, resume, type DriverContext, type Program } from "./driver.js";
import { decodeJson, encodeJson, UnstorableValue } from "./json-text.js";
import { parkPlan, resumeInput, settle, type AwaitedJob, type Found, type Resume, type Settled } from "./protocol.js";
import { createOps } from "./values.js";

export type InterruptMode = "straight" | "every-suspension" | "before-checkpoint";
export const MODES: readonly InterruptMode[] = ["straight", "every-suspension", "before-checkpoint"];

export interface Signal {
  name: string;
  value: Json;
}

/** A state the executor just committed (after a suspension, or at the end). */
export interface CommitEvent {
  job: string;
  runbook: string;
  outcome: Outcome;
  /** The committed state: the live object in straight mode (copy it to keep it). */
  state: JobState;
}

export interface MemoryOptions {
  mode: InterruptMode;
  /** Signals in the root job's mailbox before it starts, consumed by the first matching waits. */
  signals?: Signal[];
  /** Runs activities; by default an activity call fails with a clear error. */
  activity?: MemoryActivity;
  /**
   * Answer activity calls from these recorded calls (a straight run's) instead of running them:
   * each job's k-th call must be the recording's k-th call of that job (same module, function,
   * arguments and retry attempt); it gets the recorded result or error and log lines.
   */
  replay?: ActivityCall[];
  onCommit?: (event: CommitEvent) => void;
  /** Guard against endless loops of suspensions: the job fails after this many (default 10,000). */
  maxSuspensions?: number;
  /**
   * Guard against endless loops without suspensions: a job that runs this long (ms of wall time,
   * default 10 s) without reaching a suspension point fails at the loop's position.
   */
  stepBudgetMs?: number;
}

export const DEFAULT_STEP_BUDGET_MS = 10_000;

/**
 * An activity as the in-memory executor runs it: `job` is the job's id, `attempt` the call's
 * retry attempt (the activity's `ctx.attempt`), `log` the job's verbose stream.
 */
export type MemoryActivity = (
  module: string,
  fn: string,
  args: Record<string, Json>,
  call: { job: string; attempt: number; caller: CompiledRunbook; log(message: string): void },
) => Promise<unknown>;

/** One activity call as a run made it. */
export interface ActivityCall {
  job: string;
  module: string;
  fn: string;
  args: Json;
  /** The attempt of the innermost enclosing `retry` (1 outside any): part of what a replay matches. */
  attempt: number;
  /** Its result, or the error it raised (as the runbook saw it). */
  outcome: { value: Json } | { error: string; data: Json };
  /** Lines it wrote to the job's log through its context. */
  logs: string[];
}

export type Ending = { kind: "completed"; result: Json } | { kind: "failed"; error: ErrorRecord };

export interface JobRun {
  id: string;
  runbook: string;
  /** A `parallel for` branch: its element as operators see it. */
  branch?: string;
  ending: Ending;
  streams: StreamRecord[];
  /** Suspension points committed. */
  suspensions: number;
  /** Segments run (`resume` calls), counting the runs that were thrown away. */
  runs: number;
  /** Things the author should know (a wait with no timeout that got no signal). */
  notes: string[];
}

export interface MemoryRun extends JobRun {
  /** Child jobs started, in the order they were created. */
  children: JobRun[];
  /** Every committed activity call of every job, in order (answered or run). */
  activityCalls: ActivityCall[];
  /** The first call that departed from `MemoryOptions.replay`, described; else null. */
  replayMismatch: string | null;
  /**
   * What `runbook output --follow` shows of this job: its own records and its `parallel for`
   * branches' (nested ones too), in commit order, each branch's marked with its element(s) as
   * runtime/sql/inspect.ts marks them (`b`, or `b / 2` in a nested one).
   */
  followed: FollowedRecord[];
}

export interface FollowedRecord extends StreamRecord {
  branch?: string;
}

interface StoredJob {
  id: string;
  runbook: string;
  state: JobState;
  /** The suspension the job stopped at, answered when it continues; null before its first run. */
  pending: Outcome | null;
  ending: Ending | null;
  mailbox: Signal[];
  /** Activity calls made so far (the replay cursor). */
  callCount: number;
  suspensions: number;
  runs: number;
  notes: string[];
  /** A `parallel for` branch: its element's label, its parent job, whether the parent stopped it. */
  branch?: { label: string; parent: string; stopped: boolean };
}

/**
 * Everything committed that a job continues from: what survives an interruption. Committed
 * stream records and activity calls are append-only logs kept beside it (like rows of their
 * own), so a commit does not rewrite them.
 */
interface Store {
  clock: number;
  ids: number;
  jobs: Record<string, StoredJob>;
  order: string[];
}

export const ROOT_JOB = "job";
const START_TIME = Date.parse("2026-01-01T00:00:00.000Z");

/** Runs `runbook` with `params` in memory to its end. */
export async function runInMemory(program: Program, runbook: string, params: Record<string, Json>, options: MemoryOptions): Promise<MemoryRun> {
  return new MemoryExecutor(program, options).run(runbook, params);
}

class MemoryExecutor {
  /** The committed store as text (every mode); straight mode also goes on with the live store. */
  private live: Store | null = null;
  private text = "";
  private readonly active = new Set<string>();
  private readonly recorded = new Map<string, ActivityCall[]>();
  private readonly streams = new Map<string, StreamRecord[]>();
  /** Every committed record of every job, in commit order. */
  private readonly committed: { job: string; record: StreamRecord }[] = [];
  private readonly calls = new Map<string, ActivityCall[]>();
  private mismatch: string | null = null;

  constructor(
    private readonly program: Program,
    private readonly options: MemoryOptions,
  ) {
    for (const call of options.replay ?? []) {
      const list = this.recorded.get(call.job) ?? [];
      list.push(call);
      this.recorded.set(call.job, list);
    }
  }

  async run(runbook: string, params: Record<string, Json>): Promise<MemoryRun> {
    const store: Store = { clock: START_TIME, ids: 0, jobs: {}, order: [] };
    store.jobs[ROOT_JOB] = newJob(ROOT_JOB, runbook, params);
    // Through the codec, as a signal's payload goes through the signals table.
    store.jobs[ROOT_JOB].mailbox = decodeJson(encodeJson(this.options.signals ?? [], "a signal")) as unknown as Signal[];
    store.order.push(ROOT_JOB);
    this.commit(store);
    await this.runJob(ROOT_JOB);
    // Children nobody awaited still run to their end, as a worker would run them.
    for (let i = 0; i < this.load().order.length; i++) await this.runJob(this.load().order[i]);
    const final = this.load();
    const jobRun = (j: StoredJob): JobRun => ({
      id: j.id,
      runbook: j.runbook,
      ...(j.branch ? { branch: j.branch.label } : {}),
      ending: j.ending!,
      streams: this.streams.get(j.id) ?? [],
      suspensions: j.suspensions,
      runs: j.runs,
      notes: j.notes,
    });
    return {
      ...jobRun(final.jobs[ROOT_JOB]),
      children: final.order.filter((id) => id !== ROOT_JOB).map((id) => jobRun(final.jobs[id])),
      activityCalls: final.order.flatMap((id) => this.calls.get(id) ?? []),
      replayMismatch: this.mismatch,
      followed: followedRecords(final, this.committed),
    };
  }

  private load(): Store {
    return this.live ?? (decodeJson(this.text) as unknown as Store);
  }

  /**
   * Every mode encodes what it commits, as a worker does, so a value a worker cannot store fails
   * here too; straight mode goes on with the live store, and keeps the text to fall back to.
   */
  private commit(store: Store): void {
    this.text = encodeJson(store, "the job's state");
    this.live = this.options.mode === "straight" ? store : null;
  }

  /**
   * Commits job `id`'s segment with the records it wrote, each through the codec as a worker
   * writes them (in a worker's order: records, then the result or the state). A
   * value that cannot be stored fails the job as runner.ts does: at its top frame, from its
   * latest committed state, with none of the segment's records. Returns the committed store.
   */
  private commitSegment(store: Store, id: string, emitted: StreamRecord[]): Store {
    const job = store.jobs[id];
    let records: StreamRecord[];
    try {
      records = emitted.map((r) => ({ stream: r.stream, value: decodeJson(encodeJson(r.value, `the ${r.stream} record`)) }));
      if (job.ending?.kind === "completed") encodeJson(job.ending.result, "the job's result");
      this.commit(store);
    } catch (e) {
      if (!(e instanceof UnstorableValue)) throw e;
      const error = internalError(e.message, job.state.frames[job.state.frames.length - 1], this.program);
      const runs = job.runs;
      store = decodeJson(this.text) as unknown as Store;
      store.jobs[id].ending = { kind: "failed", error };
      store.jobs[id].runs = runs; // the segment did run
      records = [];
      this.commit(store);
    }
    append(this.streams, id, records);
    for (const record of records) this.committed.push({ job: id, record });
    return store;
  }

  private async runJob(id: string): Promise<void> {
    if (this.load().jobs[id].ending) return;
    this.active.add(id);
    const max = this.options.maxSuspensions ?? 10_000;
    for (;;) {
      let store: Store;
      if (this.options.mode === "before-checkpoint") {
        await this.segment(this.load(), id); // thrown away: the worker "died" before committing
        store = this.load();
        store.jobs[id].runs++;
      } else {
        store = this.load();
      }
      const { outcome, emitted, calls } = await this.segment(store, id);
      append(this.calls, id, calls);
      if (!store.jobs[id].ending && store.jobs[id].suspensions >= max) {
        const job = store.jobs[id];
        job.ending = { kind: "failed", error: { message: `stopped after ${max} suspension points (an endless loop?)`, ...this.position(job) } };
      }
      store = this.commitSegment(store, id, emitted);
      const job = store.jobs[id];
      this.options.onCommit?.({ job: id, runbook: job.runbook, outcome, state: job.state });
      if (job.ending) break;
      if (outcome.kind === "await") await this.awaitChild(outcome.job);
      if (outcome.kind === "parallel") await this.runBranches(id, outcome.join);
    }
    this.active.delete(id);
  }

  /**
   * Runs the branches of job `id`'s `parallel for` until the join is settled: starts what
   * `planJoin` says (committed, as the worker's park commits its inserts), stops the rest when
   * it says so, and runs the first started branch that has not ended to its end, one at a time.
   * The parent then continues with `planJoin`'s answer (inputFor).
   */
  private async runBranches(id: string, join: Join): Promise<void> {
    for (;;) {
      const store = this.load();
      const step = planJoin(join, branchRows(store, id, join));
      if (step.stop) {
        for (let i = 0; i < join.args.length; i++) {
          const b = store.jobs[branchId(id, join.key, i)];
          if (b && !b.ending) {
            b.ending = { kind: "failed", error: { message: "the branch was stopped", runbook: b.runbook, file: "", line: 0, column: 0, data: null } };
            b.branch!.stopped = true;
          }
        }
      }
      for (const i of step.start) {
        const child = branchId(id, join.key, i);
        store.jobs[child] = newJob(child, join.runbook, structuredClone(join.args[i]));
        store.jobs[child].branch = { label: elementLabel(join.elements[i] ?? null), parent: id, stopped: false };
        store.order.push(child);
      }
      this.commit(store);
      if (step.settled) return;
      const next = Array.from({ length: join.args.length }, (_, i) => branchId(id, join.key, i)).find((b) => store.jobs[b] && !store.jobs[b].ending);
      if (next === undefined) return; // not reached: planJoin settles once every branch ended
      await this.runJob(next);
    }
  }

  private async awaitChild(child: string): Promise<void> {
    const store = this.load();
    if (!store.jobs[child] || this.active.has(child)) return; // answered with an error by inputFor
    await this.runJob(child);
  }

  /** Runs job `id` of `store` from its committed state to its next suspension point or end. */
  private async segment(store: Store, id: string): Promise<{ outcome: Outcome; emitted: StreamRecord[]; calls: ActivityCall[] }> {
    const job = store.jobs[id];
    job.runs++;
    const input = this.inputFor(store, job);
    const emitted: StreamRecord[] = [];
    const calls: ActivityCall[] = [];
    const ops = createOps({
      now: () => store.clock,
      uuid: () => `00000000-0000-4000-8000-${(store.ids++).toString(16).padStart(12, "0")}`,
    });
    const ctx: DriverContext = {
      emit: (record) => emitted.push(record),
      activity: (module, fn, args, caller, attempt) => {
        const log = (message: string) => emitted.push({ stream: "log", value: message });
        const call: ActivityCall = { job: id, module, fn, args: structuredClone(args), attempt, outcome: { value: null }, logs: [] };
        calls.push(call);
        return this.options.replay ? this.replayCall(job, call, log) : this.runCall(call, caller, log, ops);
      },
      start: async (runbook, args, seq) => {
        const child = `${id}.${seq}`;
        if (!store.jobs[child]) {
          store.jobs[child] = newJob(child, runbook, args);
          store.order.push(child);
        }
        return child;
      },
      ops,
      stepBudgetMs: this.options.stepBudgetMs ?? DEFAULT_STEP_BUDGET_MS,
    };
    const { outcome, state } = await resume(job.state, this.program, ctx, input);
    job.state = state;
    job.pending = outcome;
    if (outcome.kind === "completed" || outcome.kind === "failed") job.ending = outcome;
    else job.suspensions++;
    return { outcome, emitted, calls };
  }

  /** Runs an activity for real, recording what it did in `call`. */
  private async runCall(call: ActivityCall, caller: CompiledRunbook, log: (m: string) => void, ops: Ops): Promise<Json> {
    const { module, fn } = call;
    try {
      const run = this.options.activity ?? noActivities;
      const result = await run(module, fn, structuredClone(call.args) as Record<string, Json>, { job: call.job, attempt: call.attempt, caller, log: (m) => (call.logs.push(m), log(m)) });
      call.outcome = { value: activityResult(ops, module, fn, result) };
      return call.outcome.value;
    } catch (e) {
      const error = ops.fault(e, "", "", 0, 0);
      call.outcome = { error: error.message, data: error.data };
      throw e;
    }
  }

  /** Answers an activity call with the job's next recorded call, which it must match. */
  private async replayCall(job: StoredJob, made: ActivityCall, log: (m: string) => void): Promise<Json> {
    const k = job.callCount++;
    const recorded = this.recorded.get(job.id)?.[k];
    if (!recorded || callText(recorded) !== callText(made)) {
      const problem = `activity call ${k + 1} of job ${job.id} is ${callText(made)}; the straight run ${recorded ? `called ${callText(recorded)}` : `made only ${k} calls`}`;
      this.mismatch ??= problem;
      throw new Error(`runbook test: ${problem}`);
    }
    made.outcome = recorded.outcome;
    for (const line of recorded.logs) log(line);
    if ("error" in recorded.outcome) throw new RunbookFault(recorded.outcome.error, recorded.outcome.data);
    return structuredClone(recorded.outcome.value);
  }

  /** Where the job's top frame stands, for errors the executor raises there. */
  private position(job: StoredJob): Omit<ErrorRecord, "message"> {
    const top = job.state.frames[job.state.frames.length - 1];
    const compiled = top && this.program.get(top.runbook);
    const [line, column] = compiled?.positions[top.pc] ?? [0, 0];
    return { runbook: top?.runbook ?? job.runbook, file: compiled?.file ?? "", line, column, data: null };
  }

  /**
   * The answer to the suspension the job stopped at (runtime/protocol.ts, as the worker answers
   * it); moves the clock for sleeps and timeouts. Nobody else sends a signal or ends a job
   * meanwhile here, so every timer has run out when the job continues: a sleep is over, and a
   * wait with no signal in the mailbox takes its timeout path (null), even one with no timeout
   * (where a worker would wait forever; the run notes it).
   */
  private inputFor(store: Store, job: StoredJob): Input {
    if (!job.pending) return undefined;
    if (job.pending.kind === "parallel") {
      const join = job.pending.join;
      return planJoin(join, branchRows(store, job.id, join)).settled ?? { error: { message: "internal error: a parallel for went on before its branches ended", ...this.position(job) } };
    }
    const plan = parkPlan(job.pending);
    if (plan.kind !== "park") return undefined;
    const found: Found = {};
    if (plan.awaitJob !== null) {
      const child = store.jobs[plan.awaitJob];
      if (!child) return { error: { message: `there is no job ${JSON.stringify(plan.awaitJob)} to await`, ...this.position(job) } };
      found.awaited = awaitedOf(child);
    }
    const i = plan.waitSignal === null ? -1 : job.mailbox.findIndex((s) => s.name === plan.waitSignal);
    if (plan.waitSignal !== null) found.signal = i >= 0 ? { payload: job.mailbox[i].value } : null;
    let next: Resume | Settled = resumeInput({ waitSignal: plan.waitSignal, awaitJob: plan.awaitJob, timer: "over" }, found);
    // Parked again: the worker's park goes on at once with what is there (`settle`).
    if (next.kind === "park") next = settle(next.park, found);
    if (next.kind === "park") {
      // Only an await can stay parked here: its job has not ended, so it is waiting for this one.
      return { error: { message: `job ${plan.awaitJob} cannot be awaited here: it is waiting for this job`, ...this.position(job) } };
    }
    if (i >= 0) {
      job.mailbox.splice(i, 1); // the signal was taken
    } else if (plan.awaitJob === null && plan.timer.kind !== "keep") {
      // The clock moves to the end of the timer that ran out.
      store.clock += Math.max(0, plan.timer.kind === "in" ? plan.timer.ms : 0);
      if (plan.waitSignal !== null && plan.timer.kind === "none") {
        const note = `wait "${plan.waitSignal}" has no timeout and got no signal: it continued with null`;
        if (!job.notes.includes(note)) job.notes.push(note);
      }
    }
    return next.input;
  }
}

/** The branches of one `parallel for` run of job `id`, as runtime/join.ts reads them. */
function branchRows(store: Store, id: string, join: Join): BranchRow[] {
  const rows: BranchRow[] = [];
  for (let i = 0; i < join.args.length; i++) {
    const b = store.jobs[branchId(id, join.key, i)];
    if (!b) continue;
    const e = b.ending;
    const status = !e ? "queued" : b.branch?.stopped ? "stopped" : e.kind;
    rows.push({ index: i, status, result: e?.kind === "completed" ? e.result : null, error: e?.kind === "failed" ? e.error : null });
  }
  return rows;
}

/** A child job as an `await` sees it: its ending, or still running (it has not ended here). */
function awaitedOf(child: StoredJob): AwaitedJob {
  const e = child.ending;
  if (!e) return { status: "running", result: null, error: null };
  return e.kind === "completed" ? { status: "completed", result: e.result, error: null } : { status: "failed", result: null, error: e.error };
}

function callText(c: { module: string; fn: string; args: Json; attempt: number }): string {
  return `${c.module ? `${c.module}.` : ""}${c.fn}(${JSON.stringify(c.args)})${c.attempt === 1 ? "" : ` (attempt ${c.attempt})`}`;
}

function newJob(id: string, runbook: string, params: Record<string, Json>): StoredJob {
  return { id, runbook, state: initialState(runbook, params), pending: null, ending: null, mailbox: [], callCount: 0, suspensions: 0, runs: 0, notes: [] };
}

/**
 * The root job's records and its branch tree's, marked as `runbook output --follow` marks them:
 * a branch of a job that is neither the root nor one of its branches (a `start`ed child's) is
 * not followed there, so not here either.
 */
function followedRecords(store: Store, committed: { job: string; record: StreamRecord }[]): FollowedRecord[] {
  const marks = new Map<string, string | null>([[ROOT_JOB, ""]]);
  const markOf = (id: string): string | null => {
    const known = marks.get(id);
    if (known !== undefined) return known;
    const b = store.jobs[id].branch;
    const parent = b ? markOf(b.parent) : null;
    const mark = b === undefined || parent === null ? null : parent === "" ? b.label : `${parent} / ${b.label}`;
    marks.set(id, mark);
    return mark;
  };
  const out: FollowedRecord[] = [];
  for (const { job, record } of committed) {
    const mark = markOf(job);
    if (mark !== null) out.push(mark === "" ? record : { ...record, branch: mark });
  }
  return out;
}

function append<T>(log: Map<string, T[]>, id: string, items: T[]): void {
  const list = log.get(id);
  if (list) list.push(...items);
  else log.set(id, [...items]);
}

async function noActivities(module: string, fn: string): Promise<never> {
  throw new Error(`activities do not run in memory: ${module ? `${module}.${fn}` : fn} was called`);
}

/** A Program over a list of compiled runbooks. */
export function programOf(runbooks: Iterable<CompiledRunbook>): Program {
  const byName = new Map<string, CompiledRunbook>();
  for (const r of runbooks) byName.set(r.name, r);
  return byName;
}

// ---------------------------------------------------------------------------------------------
// Running in every mode and comparing

export interface ModeRuns {
  runs: Record<InterruptMode, MemoryRun>;
  /** The first difference between an interrupted run and the straight run, or null. */
  divergence: string | null;
}

export interface AllModesOptions extends Omit<MemoryOptions, "mode" | "replay"> {
  /**
   * "replay" (the default): activities run for real in the straight run only; the interrupted
   * runs get its recorded answers, so they test the runbook's own state handling, not whether
   * the world looks the same the second time, and side effects happen once. "rerun": they run
   * again in every mode (at least once, as after real interruptions).
   */
  activities?: "replay" | "rerun";
}

/** Runs the job straight, then in both interrupted modes, and compares them. */
export async function runAllModes(program: Program, runbook: string, params: Record<string, Json>, options: AllModesOptions): Promise<ModeRuns> {
  const runs = {} as Record<InterruptMode, MemoryRun>;
  runs.straight = await runInMemory(program, runbook, params, { ...options, mode: "straight" });
  const replay = options.activities === "rerun" ? undefined : runs.straight.activityCalls;
  for (const mode of MODES.slice(1)) runs[mode] = await runInMemory(program, runbook, params, { ...options, mode, replay });
  let divergence: string | null = null;
  for (const mode of MODES.slice(1)) {
    divergence = runs[mode].replayMismatch ?? firstDivergence(runs.straight, runs[mode]) ?? childDivergence(runs.straight, runs[mode]);
    if (divergence) {
      divergence = `the run interrupted ${mode === "every-suspension" ? "at every suspension point" : "just before each checkpoint"} differs from the straight run: ${divergence}`;
      break;
    }
  }
  return { runs, divergence };
}

/** How the child jobs of `b` differ from those of `a`, or null. */
function childDivergence(a: MemoryRun, b: MemoryRun): string | null {
  const ids = (r: MemoryRun) => r.children.map((c) => `${c.id} ${c.runbook}`).join(", ");
  if (ids(a) !== ids(b)) return `it started the child jobs [${ids(b)}]; the straight run started [${ids(a)}]`;
  for (let i = 0; i < a.children.length; i++) {
    const d = firstDivergence(a.children[i], b.children[i]);
    const child = a.children[i];
    if (d) return child.branch !== undefined ? `in the branch for element ${child.branch} (${child.runbook}), ${d}` : `in child job ${child.id} (${child.runbook}), ${d}`;
  }
  return null;
}

function show(v: Json): string {
  return JSON.stringify(v);
}

/** How `b` differs from `a` (streams record by record, then the ending), or null. */
export function firstDivergence(a: JobRun, b: JobRun): string | null {
  const n = Math.max(a.streams.length, b.streams.length);
  for (let i = 0; i < n; i++) {
    const x = a.streams[i];
    const y = b.streams[i];
    if (!x) return `it wrote an extra ${y.stream} record ${show(y.value)} (record ${i + 1})`;
    if (!y) return `it stopped after ${i} stream records; the straight run then wrote ${x.stream} ${show(x.value)}`;
    if (x.stream !== y.stream || show(x.value) !== show(y.value)) {
      return `stream record ${i + 1} is ${y.stream} ${show(y.value)}; the straight run wrote ${x.stream} ${show(x.value)}`;
    }
  }
  const ea = a.ending;
  const eb = b.ending;
  if (ea.kind === "completed" && eb.kind === "completed") {
    return show(ea.result) === show(eb.result) ? null : `it returned ${show(eb.result)}; the straight run returned ${show(ea.result)}`;
  }
  if (ea.kind === "failed" && eb.kind === "failed") {
    return show(ea.error as unknown as Json) === show(eb.error as unknown as Json) ? null : `it failed with "${errorText(eb.error)}"; the straight run failed with "${errorText(ea.error)}"`;
  }
  return `it ${eb.kind === "completed" ? `returned ${show(eb.result)}` : `failed with "${errorText(eb.error)}"`}; the straight run ${ea.kind === "completed" ? `returned ${show(ea.result)}` : `failed with "${errorText(ea.error)}"`}`;
}

/** `FILE:LINE:COL: MESSAGE` (or just the message when the error has no position). */
export function errorText(e: ErrorRecord): string {
  return e.file ? `${e.file}:${e.line}:${e.column}: ${e.message}` : e.message;
}
