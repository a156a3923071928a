// The in-memory executor: runs a job to its end with the driver (runtime/driver.ts) and no
// database, for `runbook test` and the test suites.
//
// It behaves like the worker with a store that is only a JSON text: sleeps end at once, `wait`
// takes a signal from the job's mailbox or its timeout path (null), `start` records a child job
// and `await` runs that child to its end, `suspend` resumes at once. Three modes:
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
import type { CompiledRunbook, ErrorRecord, Json, JobState, Outcome, StreamRecord } from "./abi.js";
import { initialState, resume, type DriverContext, type Program } from "./driver.js";
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
  onCommit?: (event: CommitEvent) => void;
  /** Guard against endless loops of suspensions. */
  maxSuspensions?: number;
}

/** An activity as the in-memory executor runs it: `job` is the job's id, `log` its verbose stream. */
export type MemoryActivity = (
  module: string,
  fn: string,
  args: Record<string, Json>,
  call: { job: string; caller: CompiledRunbook; log(message: string): void },
) => Promise<unknown>;

export type Ending = { kind: "completed"; result: Json } | { kind: "failed"; error: ErrorRecord };

export interface JobRun {
  id: string;
  runbook: string;
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
}

interface StoredJob {
  id: string;
  runbook: string;
  state: JobState;
  /** The suspension the job stopped at, answered when it continues; null before its first run. */
  pending: Outcome | null;
  ending: Ending | null;
  streams: StreamRecord[];
  mailbox: Signal[];
  suspensions: number;
  runs: number;
  notes: string[];
}

/** Everything committed: what survives an interruption. */
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
  /** Straight mode keeps the live store; the others keep only its JSON text. */
  private live: Store | null = null;
  private text = "";
  private readonly active = new Set<string>();

  constructor(
    private readonly program: Program,
    private readonly options: MemoryOptions,
  ) {}

  async run(runbook: string, params: Record<string, Json>): Promise<MemoryRun> {
    const store: Store = { clock: START_TIME, ids: 0, jobs: {}, order: [] };
    store.jobs[ROOT_JOB] = newJob(ROOT_JOB, runbook, params);
    store.jobs[ROOT_JOB].mailbox = structuredClone(this.options.signals ?? []);
    store.order.push(ROOT_JOB);
    this.commit(store);
    await this.runJob(ROOT_JOB);
    // Children nobody awaited still run to their end, as a worker would run them.
    for (let i = 0; i < this.load().order.length; i++) await this.runJob(this.load().order[i]);
    const final = this.load();
    const jobRun = (j: StoredJob): JobRun => ({
      id: j.id,
      runbook: j.runbook,
      ending: j.ending!,
      streams: j.streams,
      suspensions: j.suspensions,
      runs: j.runs,
      notes: j.notes,
    });
    return { ...jobRun(final.jobs[ROOT_JOB]), children: final.order.filter((id) => id !== ROOT_JOB).map((id) => jobRun(final.jobs[id])) };
  }

  private load(): Store {
    return this.live ?? (JSON.parse(this.text) as Store);
  }

  private commit(store: Store): void {
    if (this.options.mode === "straight") this.live = store;
    else this.text = JSON.stringify(store);
  }

  private async runJob(id: string): Promise<void> {
    if (this.load().jobs[id].ending) return;
    this.active.add(id);
    const max = this.options.maxSuspensions ?? 100_000;
    for (;;) {
      let store: Store;
      if (this.options.mode === "before-checkpoint") {
        await this.segment(this.load(), id); // thrown away: the worker "died" before committing
        store = this.load();
        store.jobs[id].runs++;
      } else {
        store = this.load();
      }
      const outcome = await this.segment(store, id);
      const job = store.jobs[id];
      if (!job.ending && job.suspensions >= max) {
        job.ending = { kind: "failed", error: { message: `stopped after ${max} suspension points (an endless loop?)`, runbook: job.runbook, file: "", line: 0, column: 0, data: null } };
      }
      this.commit(store);
      this.options.onCommit?.({ job: id, runbook: job.runbook, outcome, state: job.state });
      if (job.ending) break;
      if (outcome.kind === "await") await this.awaitChild(outcome.job);
    }
    this.active.delete(id);
  }

  private async awaitChild(child: string): Promise<void> {
    const store = this.load();
    if (!store.jobs[child] || this.active.has(child)) return; // answered with an error by inputFor
    await this.runJob(child);
  }

  /** Runs job `id` of `store` from its committed state to its next suspension point or end. */
  private async segment(store: Store, id: string): Promise<Outcome> {
    const job = store.jobs[id];
    job.runs++;
    const input = this.inputFor(store, job);
    const emitted: StreamRecord[] = [];
    const ctx: DriverContext = {
      emit: (record) => emitted.push(record),
      activity: (module, fn, args, caller) => {
        const run = this.options.activity ?? noActivities;
        return run(module, fn, args, { job: id, caller, log: (message) => emitted.push({ stream: "log", value: message }) });
      },
      start: async (runbook, args, seq) => {
        const child = `${id}.${seq}`;
        if (!store.jobs[child]) {
          store.jobs[child] = newJob(child, runbook, args);
          store.order.push(child);
        }
        return child;
      },
      ops: createOps({
        now: () => store.clock,
        uuid: () => `00000000-0000-4000-8000-${(store.ids++).toString(16).padStart(12, "0")}`,
      }),
    };
    const { outcome, state } = await resume(job.state, this.program, ctx, input);
    job.state = state;
    job.pending = outcome;
    job.streams.push(...emitted);
    if (outcome.kind === "completed" || outcome.kind === "failed") job.ending = outcome;
    else job.suspensions++;
    return outcome;
  }

  /** The answer to the suspension the job stopped at; moves the clock for sleeps and timeouts. */
  private inputFor(store: Store, job: StoredJob): { value: Json } | { error: ErrorRecord } | undefined {
    const pending = job.pending;
    if (!pending) return undefined;
    switch (pending.kind) {
      case "sleep":
        store.clock += Math.max(0, pending.ms);
        return undefined;
      case "wait": {
        const i = job.mailbox.findIndex((s) => s.name === pending.signal);
        if (i >= 0) return { value: job.mailbox.splice(i, 1)[0].value };
        if (pending.timeoutMs === null) {
          const note = `wait "${pending.signal}" has no timeout and got no signal: it continued with null`;
          if (!job.notes.includes(note)) job.notes.push(note);
        }
        store.clock += Math.max(0, pending.timeoutMs ?? 0);
        return { value: null };
      }
      case "await": {
        const child = store.jobs[pending.job];
        const at = { runbook: job.runbook, file: "", line: 0, column: 0, data: null };
        if (!child) return { error: { message: `there is no job ${JSON.stringify(pending.job)} to await`, ...at } };
        if (!child.ending) return { error: { message: `job ${pending.job} cannot be awaited here: it is waiting for this job`, ...at } };
        return child.ending.kind === "completed" ? { value: child.ending.result } : { error: child.ending.error };
      }
      default:
        return undefined;
    }
  }
}

function newJob(id: string, runbook: string, params: Record<string, Json>): StoredJob {
  return { id, runbook, state: initialState(runbook, params), pending: null, ending: null, streams: [], mailbox: [], suspensions: 0, runs: 0, notes: [] };
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

/** Runs the job straight, then in both interrupted modes, and compares them. */
export async function runAllModes(program: Program, runbook: string, params: Record<string, Json>, options: Omit<MemoryOptions, "mode">): Promise<ModeRuns> {
  const runs = {} as Record<InterruptMode, MemoryRun>;
  for (const mode of MODES) runs[mode] = await runInMemory(program, runbook, params, { ...options, mode });
  let divergence: string | null = null;
  for (const mode of MODES.slice(1)) {
    divergence = firstDivergence(runs.straight, runs[mode]);
    if (divergence) {
      divergence = `the run interrupted ${mode === "every-suspension" ? "at every suspension point" : "just before each checkpoint"} differs from the straight run: ${divergence}`;
      break;
    }
  }
  return { runs, divergence };
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
