// The driver: runs a job's call stack from its persisted state to the next suspension point.
//
// `resume` steps the top frame (runtime/abi.ts `CompiledRunbook.step`), pushes a frame for each
// inline call of a runbook that can suspend, pops frames and delivers their values or errors to
// the caller, and returns at every suspension point with the state to persist, its dead locals
// pruned. It knows nothing of databases, queues or processes: the Postgres worker and the
// in-memory executor (runtime/memory.ts) both call it, and supply the world through a
// `DriverContext`. Nothing that goes wrong inside compiled code crashes the caller: a bad step
// result, an exception outside the emitted catch, an unknown runbook or a corrupt state all end
// in a `failed` outcome with a clear error.
import type {
  Join,
  CompiledRunbook,
  ErrorRecord,
  Frame,
  Input,
  Json,
  JobState,
  Outcome,
  StepContext,
  StepResult,
  StreamName,
  StreamRecord,
} from "./abi.js";
import { describe, isErrorRecord, JobAbort, ops as realOps, RaisedError, raisedAt } from "./values.js";
import { RunbookFault, type Ops } from "./abi.js";
import { assertNever } from "./never.js";
import { badJoin, clearJoin, setJoin } from "./join.js";

/** The runbooks a job may run: its own and every runbook it calls inline, by name. */
export interface Program {
  get(name: string): CompiledRunbook | undefined;
}

/** What the driver needs from whoever runs the job (the worker, or the in-memory executor). */
export interface DriverContext {
  /**
   * Receives each stream record as it is written. The caller buffers them and commits them with
   * the state `resume` returns (or drops them if it never commits that state).
   */
  emit(record: StreamRecord): void;
  /**
   * Runs an activity for `caller` (the runbook whose frame calls it: its `file` and `uses`
   * resolve the module alias). `args` are a private copy (never shared with the frame's
   * locals); the driver checks that the result is JSON before the runbook sees it. `attempt`
   * is the call's retry attempt (1 outside any retry): the activity's `ctx.attempt`.
   */
  activity(module: string, fn: string, args: Record<string, Json>, caller: CompiledRunbook, attempt: number): Promise<unknown>;
  /**
   * Queues a child job. `seq` is the parent's stable counter for this start: a re-run from the
   * same checkpoint passes the same number, so the caller can make starts idempotent.
   */
  start(runbook: string, args: Record<string, Json>, seq: number): Promise<string>;
  /** Operators and built-ins; the default uses the real clock and random uuids. */
  ops?: Ops;
  /**
   * Fires when the job must stop running here (its lease lost, an operator's stop, a handover
   * interruption). The next tick, activity call or child start then ends the resume with an
   * `interrupted` outcome: a step without suspension points cannot hold the job.
   */
  signal?: { readonly aborted: boolean; readonly reason: unknown };
  /**
   * The longest one resume may run without reaching a suspension point, in ms; past it the job
   * fails at the loop's position ("no suspension point reached in 10 s; an endless loop?").
   * Unlimited when left out (the worker: a long step there is legitimate, and stoppable).
   */
  stepBudgetMs?: number;
}

export interface Resumed {
  outcome: Outcome;
  state: JobState;
}

const SUSPENSIONS = new Set(["checkpoint", "sleep", "suspend", "wait", "await", "parallel"]);

/** Frames the driver runs (steps, pushes, pops) between two ticks of its own. */
const STEPS_PER_TICK = 1_000;

/** The state of a new job: its runbook's frame at pc 0 with the given parameters. */
export function initialState(runbook: string, params: Record<string, Json>): JobState {
  return { frames: [{ runbook, pc: 0, locals: { ...params } }], seq: 0 };
}

/**
 * Runs the job from `state` until it suspends or ends. `input` answers the suspension the state
 * stopped at (a signal payload, an awaited child's result or error); undefined otherwise.
 * `state` is updated in place and returned.
 */
export async function resume(state: JobState, program: Program, ctx: DriverContext, input?: Input): Promise<Resumed> {
  const corrupt = checkState(state);
  if (corrupt) {
    const error: ErrorRecord = { message: corrupt, runbook: "", file: "", line: 0, column: 0, data: null };
    return { outcome: { kind: "failed", error }, state: { frames: [], seq: typeof state?.seq === "number" ? state.seq : 0 } };
  }
  // A `parallel for` the job waited at is over once it goes on (runtime/join.ts).
  if (Array.isArray(state?.frames)) clearJoin(state);
  const running: Running = { compiled: undefined, frame: undefined, startedAt: performance.now(), yieldedAt: performance.now() };
  const stepCtx = makeStepContext(state, program, ctx, running);
  try {
    return await run(state, program, stepCtx, running, input);
  } catch (e) {
    if (!(e instanceof JobAbort)) throw e;
    // The job was taken away (nothing of this run is written) or ran out of its step budget.
    return e.outcome.kind === "failed" ? failed(state, e.outcome.error) : { outcome: e.outcome, state };
  }
}

async function run(state: JobState, program: Program, stepCtx: StepContext, running: Running, input: Input): Promise<Resumed> {
  let delivered = input;
  let steps = 0;
  for (;;) {
    // Calls and returns of runbooks that could suspend but do not can alternate forever too.
    if (++steps % STEPS_PER_TICK === 0) await stepCtx.tick();
    const frame = state.frames[state.frames.length - 1];
    const compiled = program.get(frame.runbook);
    if (!compiled) {
      state.frames.pop();
      const error = internalError(`runbook ${frame.runbook} is not part of this job's program`, frame, program);
      if (state.frames.length === 0) return failed(state, error);
      delivered = { error };
      continue;
    }
    running.compiled = compiled;
    running.frame = frame;
    const result = await runStep(compiled, frame, stepCtx, delivered);
    delivered = undefined;
    switch (result.kind) {
      case "call":
        state.frames.push({ runbook: result.runbook, pc: 0, locals: { ...result.args } });
        break;
      case "return":
        state.frames.pop();
        if (state.frames.length === 0) return { outcome: { kind: "completed", result: result.value }, state };
        delivered = { value: result.value };
        break;
      case "throw":
        state.frames.pop();
        if (state.frames.length === 0) return failed(state, result.error);
        delivered = { error: result.error };
        break;
      case "checkpoint":
      case "sleep":
      case "suspend":
      case "wait":
      case "await":
        pruneDeadLocals(state, program);
        return { outcome: result, state };
      case "parallel": {
        const { kind: _, line, column, ...rest } = result;
        const join: Join = { ...rest, key: state.seq++, at: { runbook: compiled.name, file: compiled.file, line, column } };
        const bad = badJoin(join);
        if (bad) {
          delivered = { error: { message: bad, ...join.at, data: null } };
          state.seq--; // nothing was started under it
          break;
        }
        pruneDeadLocals(state, program);
        setJoin(state, join);
        return { outcome: { kind: "parallel", join }, state };
      }
      default:
        return assertNever(result, "step result");
    }
  }
}

function failed(state: JobState, error: ErrorRecord): Resumed {
  state.frames = [];
  return { outcome: { kind: "failed", error }, state };
}

/** Keeps, in every frame, only the locals its runbook lists as live at the frame's pc. */
export function pruneDeadLocals(state: JobState, program: Program): void {
  for (const frame of state.frames) {
    const compiled = program.get(frame.runbook);
    const live = compiled && liveSet(compiled, frame.pc);
    if (!live) continue; // no table entry: keep everything rather than lose a value
    // Deleting in place is several times faster than copying the live names into a new object.
    for (const name in frame.locals) if (!live.has(name)) delete frame.locals[name];
  }
}

const liveSets = new WeakMap<CompiledRunbook, Map<number, Set<string> | null>>();

/** `live[pc]` of a runbook as a Set, built once per runbook and pc. */
function liveSet(compiled: CompiledRunbook, pc: number): Set<string> | null {
  let byPc = liveSets.get(compiled);
  if (!byPc) liveSets.set(compiled, (byPc = new Map()));
  let set = byPc.get(pc);
  if (set === undefined) {
    const names = compiled.live[pc];
    set = names ? new Set(names) : null;
    byPc.set(pc, set);
  }
  return set;
}

/** One `step`, with whatever goes wrong turned into a `throw` result. */
async function runStep(compiled: CompiledRunbook, frame: Frame, ctx: StepContext, input: Input): Promise<StepResult> {
  const pc = frame.pc;
  let result: unknown;
  try {
    result = await compiled.step(frame, ctx, input);
  } catch (e) {
    if (e instanceof JobAbort) throw e;
    if (e instanceof RaisedError) return { kind: "throw", error: e.record };
    const message = e instanceof Error ? e.message : String(e);
    return { kind: "throw", error: errorAt(`internal error in the compiled code of ${compiled.name}: ${message}`, compiled, pc) };
  }
  const bad = checkStepResult(result);
  if (bad) return { kind: "throw", error: errorAt(`internal error in the compiled code of ${compiled.name}: ${bad}`, compiled, pc) };
  return result as StepResult;
}

function errorAt(message: string, compiled: CompiledRunbook, pc: number): ErrorRecord {
  const [line, column] = compiled.positions[pc] ?? [0, 0];
  return { message, runbook: compiled.name, file: compiled.file, line, column, data: null };
}

/** An error at the frame's position (its runbook's file, line and column for its pc). */
export function internalError(message: string, frame: Frame | undefined, program: Program): ErrorRecord {
  const compiled = frame && typeof frame.runbook === "string" ? program.get(frame.runbook) : undefined;
  if (compiled && frame) return errorAt(message, compiled, frame.pc);
  return { message, runbook: frame?.runbook ?? "", file: "", line: 0, column: 0, data: null };
}

/** What is wrong with a step's result, or null when it is one of the StepResult kinds. */
function checkStepResult(r: unknown): string | null {
  if (typeof r !== "object" || r === null) return `step returned ${describe(r)}, not a step result`;
  const x = r as Record<string, unknown>;
  const kind = x.kind;
  switch (kind) {
    case "checkpoint":
      return x.label === null || typeof x.label === "string" ? null : "a checkpoint label must be a string or null";
    case "sleep":
      return typeof x.ms === "number" && Number.isFinite(x.ms) ? null : "sleep needs a finite number of milliseconds";
    case "suspend":
      return x.reason === null || typeof x.reason === "string" ? null : "a suspend reason must be a string or null";
    case "wait":
      if (typeof x.signal !== "string") return "wait needs a signal name";
      return x.timeoutMs === null || (typeof x.timeoutMs === "number" && Number.isFinite(x.timeoutMs)) ? null : "a wait timeout must be a number or null";
    case "await":
      return typeof x.job === "string" ? null : `await needs a job id (a string), not ${describe(x.job)}`;
    case "call":
      return typeof x.runbook === "string" && typeof x.args === "object" && x.args !== null ? null : "a call needs a runbook name and arguments";
    case "parallel":
      return typeof x.runbook === "string" && Array.isArray(x.args) && Array.isArray(x.elements) && (x.limit === null || typeof x.limit === "number")
        ? null
        : "a parallel for needs a runbook name, arguments, elements and a limit";
    case "return":
      return x.value === undefined ? "a return needs a value (null for none)" : null;
    case "throw":
      return isErrorRecord(x.error) ? null : "a throw needs an error record";
    default:
      return `step returned an unknown kind ${JSON.stringify(kind) ?? String(kind)}`;
  }
}

/** What is wrong with a persisted state, or null when it has the JobState shape. */
function checkState(state: unknown): string | null {
  if (typeof state !== "object" || state === null) return "the job's state is not an object";
  const s = state as Partial<JobState>;
  if (typeof s.seq !== "number") return "the job's state has no sequence number";
  if (!Array.isArray(s.frames) || s.frames.length === 0) return "the job's state has no frames to run";
  for (const f of s.frames) {
    if (typeof f !== "object" || f === null || typeof f.runbook !== "string" || typeof f.pc !== "number" || typeof f.locals !== "object" || f.locals === null || Array.isArray(f.locals)) {
      return "the job's state holds a malformed frame";
    }
  }
  return null;
}

/** An activity's result as the runbook may see it: plain JSON, or a fault naming the activity. */
export function activityResult(ops: Ops, module: string, fn: string, result: unknown): Json {
  try {
    return ops.json(result, "result");
  } catch (e) {
    const name = module ? `${module}.${fn}` : fn;
    throw new RunbookFault(`${name} returned a value that is not JSON: ${(e as Error).message}`);
  }
}

/** The runbook whose frame is running now (activities need to know who calls them). */
interface Running {
  compiled: CompiledRunbook | undefined;
  frame: Frame | undefined;
  /** performance.now() when the resume began: the step budget counts from there. */
  startedAt: number;
  /** performance.now() of the latest yield to the event loop. */
  yieldedAt: number;
}

/**
 * A tick yields to the event loop only when this long has passed since the last yield: a
 * setImmediate round trip costs ~10 µs, as much as thousands of cheap loop passes, and timers
 * and I/O need a turn every few ms, not every tick.
 */
const YIELD_EVERY_MS = 5;

/** Lets timers and I/O run: the worker's heartbeats, other jobs, an operator's stop. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Throws the JobAbort that ends the resume when the job must stop (the context's signal) or has
 * used up its step budget; `line`/`column` place the budget error (else the frame's pc does).
 */
function checkRunning(ctx: DriverContext, running: Running, line?: number, column?: number): void {
  if (ctx.signal?.aborted) {
    const reason = ctx.signal.reason instanceof Error ? ctx.signal.reason.message : "the job is stopping";
    throw new JobAbort({ kind: "interrupted", reason });
  }
  const budget = ctx.stepBudgetMs;
  if (budget === undefined || performance.now() - running.startedAt <= budget) return;
  const compiled = running.compiled;
  const [l, c] = line !== undefined && column !== undefined ? [line, column] : (compiled && running.frame && compiled.positions[running.frame.pc]) || [0, 0];
  const message = `no suspension point reached in ${Number((budget / 1000).toFixed(3))} s; an endless loop?`;
  throw new JobAbort({ kind: "failed", error: { message, runbook: compiled?.name ?? "", file: compiled?.file ?? "", line: l, column: c, data: null } });
}

function makeStepContext(state: JobState, program: Program, ctx: DriverContext, running: Running): StepContext {
  const ops = ctx.ops ?? realOps;
  const stepCtx: StepContext = {
    ops,
    emit(stream: StreamName, value: Json) {
      ctx.emit({ stream, value });
    },
    // An error a call raises itself (the activity's, a bad result, a failed start) gets the
    // call's position; a callee's error keeps its own (raisedAt passes ErrorRecords through).
    async activity(module, fn, args, attempt, line, column) {
      try {
        checkRunning(ctx, running);
        const n = attempt ?? 1;
        if (!Number.isInteger(n) || n < 1) throw new RunbookFault(`activity attempt must be a positive integer, got ${JSON.stringify(attempt)}`);
        return activityResult(ops, module, fn, await ctx.activity(module, fn, structuredClone(args), running.compiled!, n));
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
    call: async (runbook, args, line, column) => {
      const caller = running.compiled;
      const callerFrame = running.frame;
      try {
        return await callInline(runbook, args, program, stepCtx, running);
      } catch (e) {
        throw raisedAt(e, line, column);
      } finally {
        running.compiled = caller;
        running.frame = callerFrame;
      }
    },
    tick(line, column) {
      checkRunning(ctx, running, line, column);
      if (performance.now() - running.yieldedAt < YIELD_EVERY_MS) return;
      return yieldToEventLoop().then(() => {
        running.yieldedAt = performance.now();
        checkRunning(ctx, running, line, column);
      });
    },
    async start(runbook, args, line, column) {
      try {
        checkRunning(ctx, running);
        const seq = state.seq++;
        return await ctx.start(runbook, structuredClone(args), seq);
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
  };
  return stepCtx;
}

/**
 * `StepContext.call`: runs a runbook that cannot suspend to its end on a stack of its own. Its
 * error is thrown as a RaisedError so the caller's emitted catch sees the callee's record.
 */
async function callInline(runbook: string, args: Record<string, Json>, program: Program, ctx: StepContext, running: Running): Promise<Json> {
  const stack: Frame[] = [{ runbook, pc: 0, locals: { ...args } }];
  let delivered: Input;
  for (;;) {
    const frame = stack[stack.length - 1];
    const compiled = program.get(frame.runbook);
    let result: StepResult;
    if (!compiled) {
      result = { kind: "throw", error: internalError(`runbook ${frame.runbook} is not part of this job's program`, frame, program) };
    } else {
      running.compiled = compiled;
      running.frame = frame;
      result = await runStep(compiled, frame, ctx, delivered);
    }
    delivered = undefined;
    if (SUSPENSIONS.has(result.kind) && compiled) {
      result = { kind: "throw", error: errorAt(`internal error: ${compiled.name} reached a ${result.kind} inside a call that cannot suspend`, compiled, frame.pc) };
    }
    switch (result.kind) {
      case "call":
        stack.push({ runbook: result.runbook, pc: 0, locals: { ...result.args } });
        break;
      case "return":
        stack.pop();
        if (stack.length === 0) return result.value;
        delivered = { value: result.value };
        break;
      case "throw":
        stack.pop();
        if (stack.length === 0) throw new RaisedError(result.error);
        delivered = { error: result.error };
        break;
      case "checkpoint":
      case "sleep":
      case "suspend":
      case "wait":
      case "await":
      case "parallel":
        break; // not reached: turned into a throw above (listed so the switch stays exhaustive)
      default:
        assertNever(result, "step result");
    }
  }
}
