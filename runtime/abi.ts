// The contract between compiled runbooks and the runtime that drives them.
//
// The compiler (compiler/emit.ts) writes one module per runbook. Each module exports a
// `CompiledRunbook`: a `step` function that runs ONE frame of the call stack from its program
// counter until that frame needs something from outside (a checkpoint, a timer, a signal, an
// inline call of a runbook that can suspend, a child job) or ends. The driver
// (runtime/executor.ts, `resume`) owns the call stack: it calls `step` on the top frame, pushes
// and pops frames, delivers values and errors into frames, and returns to its caller at every
// suspension point with the state to persist. The in-memory executor (`runbook test`) and the
// Postgres worker use the same driver.
//
// Everything in `JobState` is plain JSON: the state survives JSON.stringify/JSON.parse and
// continues in another process. Emitted modules import nothing at run time (only types from this
// file), so the runtime can load a published version's code straight from the database; all
// helpers reach them through the `StepContext` argument.

/** A JSON value: the only kind of value a runbook ever holds. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The error value a runbook sees in `catch err`, and the error a failed job ends with. */
export interface ErrorRecord {
  message: string;
  /** The runbook (name) whose code raised it. */
  runbook: string;
  /** Position in that runbook's `.runbook` file (never a line of generated code). */
  file: string;
  line: number;
  column: number;
  data: Json;
}

/** One activation of a runbook: an inline call, or the job's own runbook at the bottom. */
export interface Frame {
  /** Runbook name: selects the CompiledRunbook whose `step` runs this frame. */
  runbook: string;
  /** Program counter: the case of the state machine to run next. 0 = the start. */
  pc: number;
  /**
   * Parameters, locals and compiler temporaries (completion records for `finally`, retry
   * attempt counters, loop iterators) by name. At a suspension point the driver keeps only the
   * names listed in `live[pc]` for the frame's pc.
   */
  locals: Record<string, Json>;
}

/** The whole persisted state of a job: what a checkpoint writes. */
export interface JobState {
  /** Call stack: frames[0] is the job's runbook, the last frame is the one running. */
  frames: Frame[];
  /**
   * Count of side effects that need a stable identity across re-runs (child job starts): a
   * re-run from the same checkpoint reproduces the same numbers, so `start` is idempotent.
   */
  seq: number;
}

/** A `parallel for` as the runtime runs it: one branch job of `runbook` per element. */
export interface Join {
  runbook: string;
  /** Each branch's arguments (captured locals and its element), in element order. */
  args: Record<string, Json>[];
  /** The elements (the key or index for `for k, v`), for operators and errors. */
  elements: Json[];
  /** Branches running at once at most; null: all. */
  limit: number | null;
  onError: "stop" | "continue";
  /** The parent's sequence number for this run: branch ids and rows are keyed by it. */
  key: number;
  /** Where the `parallel for` stands: the error it raises has this position. */
  at: { runbook: string; file: string; line: number; column: number };
}

/** Why `resume` returned. The driver has already updated the state it returns with this. */
export type Outcome =
  | { kind: "checkpoint"; label: string | null }
  | { kind: "sleep"; ms: number }
  | { kind: "suspend"; reason: string | null }
  | { kind: "wait"; signal: string; timeoutMs: number | null }
  | { kind: "await"; job: string }
  | { kind: "parallel"; join: Join }
  | { kind: "completed"; result: Json }
  | { kind: "failed"; error: ErrorRecord }
  /**
   * The job was taken away from this run (its lease lost, an operator's stop, a handover
   * interruption) while a step ran: nothing of this run may be written; the state is not valid.
   */
  | { kind: "interrupted"; reason: string };

/**
 * What the driver hands a frame when it continues after a suspension or an inline call: the
 * signal payload (or null on timeout), the awaited child's result, the callee's return value;
 * or an error to raise at that point (a failed child job, an error escaping a callee).
 */
export type Input = { value: Json } | { error: ErrorRecord } | undefined;

/** What one `step` call ends with. */
export type StepResult =
  | { kind: "checkpoint"; label: string | null }
  | { kind: "sleep"; ms: number }
  | { kind: "suspend"; reason: string | null }
  | { kind: "wait"; signal: string; timeoutMs: number | null }
  | { kind: "await"; job: string }
  /** `parallel for`: run `runbook` once per element of `args` as branch jobs and wait for them. */
  | { kind: "parallel"; runbook: string; args: Record<string, Json>[]; elements: Json[]; limit: number | null; onError: "stop" | "continue"; line: number; column: number }
  /** Push a frame for an inline call of a runbook that can suspend; args by parameter name. */
  | { kind: "call"; runbook: string; args: Record<string, Json> }
  /** The frame finished normally. */
  | { kind: "return"; value: Json }
  /** An error escaped the frame (no enclosing catch handled it). */
  | { kind: "throw"; error: ErrorRecord };

export type StreamName = "output" | "log" | "warn" | "error";

/** A stream record as emitted: committed with the next checkpoint (or the final status). */
export interface StreamRecord {
  stream: StreamName;
  value: Json;
}

/**
 * Everything a running frame may ask of the runtime. Pure helpers (operators, built-in
 * functions) live in `ops`; anything that touches the world is async.
 */
export interface StepContext {
  /** Operators and built-in pure functions; they throw `RunbookFault`s on bad values. */
  readonly ops: Ops;
  /** Append a stream record (buffered until the next checkpoint). */
  emit(stream: StreamName, value: Json): void;
  /**
   * Call an activity: `module` is the `use` alias ("" for built-ins), args by name. `attempt`
   * is the 1-based attempt of the innermost `retry` whose body encloses the call in this
   * runbook (its durable attempt slot, so it survives a crash); left out (1) outside any retry.
   * The activity sees it as `ctx.attempt`. `line`, `column` (here and in `call`, `start`): the
   * call's `.runbook` position, which an error raised by the call (not inside a callee) carries.
   */
  activity(module: string, fn: string, args: Record<string, Json>, attempt?: number, line?: number, column?: number): Promise<Json>;
  /** Inline call of a runbook that can NOT suspend: runs it to its end and returns its value. */
  call(runbook: string, args: Record<string, Json>, line?: number, column?: number): Promise<Json>;
  /** `start NAME(args)`: queue a child job, return its id. Idempotent per `JobState.seq`. */
  start(runbook: string, args: Record<string, Json>, line?: number, column?: number): Promise<string>;
  /**
   * A cooperative yield point. Emitted code calls it every TICK_EVERY passes of a loop that runs
   * inside one step (native loops, and the dispatch loop that split code jumps around in), so a
   * step without suspension points never holds its process: timers, heartbeats and other jobs
   * run meanwhile. It throws, past every runbook `catch`, when the job must stop running here
   * (lease lost, operator stop, interruption) or ran too long without reaching a suspension
   * point (`runbook test`). `line`, `column`: the loop's `.runbook` position, for that error
   * (left out: the position of the frame's pc).
   */
  tick(line?: number, column?: number): Promise<void> | void;
}

/** Loop passes between two `StepContext.tick` calls in emitted code. */
export const TICK_EVERY = 10_000;

/**
 * Thrown by helpers for a run-time error in runbook code (bad index, NaN, `fail`, a failed
 * activity). It gets the `.runbook` position of the expression that raised it where it is raised
 * (the helper's or call's `line`, `column` arguments), so a `finally` it passes through cannot
 * move it; the emitted catch turns it into an ErrorRecord at that position.
 */
export class RunbookFault extends Error {
  /** Where it was raised; unset only for code compiled before positions were passed. */
  line?: number;
  column?: number;
  constructor(
    message: string,
    public readonly data: Json = null,
  ) {
    super(message);
  }
}

/**
 * Operators and built-in pure functions used by emitted code, implemented in runtime/values.ts.
 * Every helper checks its operands at run time (the checker cannot see through `any`) and
 * throws a RunbookFault with a one-sentence message on a bad value. Every helper that can fault
 * takes the `.runbook` position of its expression as its last two arguments (`line`, `column`)
 * and gives the fault that position as it raises it. Numbers must stay finite: a NaN or Infinity
 * result is a fault.
 */
export interface Ops {
  /** `+`: numbers, strings, lists (concatenation), durations, time (ISO string) + duration. */
  add(a: Json, b: Json, line?: number, column?: number): Json;
  /** `-`: numbers, durations, time - duration (time), time - time (duration). */
  sub(a: Json, b: Json, line?: number, column?: number): Json;
  mul(a: Json, b: Json, line?: number, column?: number): Json;
  div(a: Json, b: Json, line?: number, column?: number): Json;
  mod(a: Json, b: Json, line?: number, column?: number): Json;
  /** Unary `-`. */
  neg(a: Json, line?: number, column?: number): Json;
  /** `< <= > >=` on two numbers or two strings (times compare as their ISO strings). */
  lt(a: Json, b: Json, line?: number, column?: number): boolean;
  le(a: Json, b: Json, line?: number, column?: number): boolean;
  gt(a: Json, b: Json, line?: number, column?: number): boolean;
  ge(a: Json, b: Json, line?: number, column?: number): boolean;
  /** `==` (structural; `!=` is its negation). */
  eq(a: Json, b: Json): boolean;
  /** `a..b`: the integers from a to b, both included (empty when b < a). */
  range(a: Json, b: Json, line?: number, column?: number): Json[];
  /** A value used as a condition (`if`, `while`, `and`, `or`, `not`) must be a boolean. */
  bool(v: Json, line?: number, column?: number): boolean;
  /** `o.f`: fault on null or a missing key. */
  member(o: Json, key: string, line?: number, column?: number): Json;
  /** `o?.f`: null on null or a missing key. */
  optMember(o: Json, key: string, line?: number, column?: number): Json;
  /** `o[i]`: a list with an integer index in range, or a map with a string key. */
  index(o: Json, i: Json, line?: number, column?: number): Json;
  /** Persistent update for `x.f[i] = v`: a copy of `root` with the value at `path` replaced. */
  setPath(root: Json, path: Json[], value: Json, line?: number, column?: number): Json;
  /** Text of a value for interpolation and `str()`: strings as they are, others as JSON. */
  str(v: Json): string;
  /** `for x in v`: a list's elements or a map's keys (a snapshot). */
  iter(v: Json, line?: number, column?: number): Json[];
  /** `for a, b in v`: [index, element] of a list or [key, value] of a map. */
  entries(v: Json, line?: number, column?: number): [Json, Json][];
  /** A built-in pure function (`len`, `split`, `now`, ...) by name, arguments in order. */
  builtin(name: string, args: Json[], line?: number, column?: number): Json;
  /** Checks that a value coming from outside (activity result) is plain JSON; faults if not. */
  json(v: unknown, what: string): Json;
  /** `fail e`: throws a RunbookFault with `str(e)` as the message. */
  fail(message: Json, line?: number, column?: number): never;
  /**
   * Turns anything thrown while running a statement into the runbook's error value: a
   * RunbookFault's message and data at the position it was raised at, an ErrorRecord re-raised
   * from a callee unchanged; anything else (and a fault from code compiled before faults carried
   * positions) at the given fallback position. The driver's abort thrown by `tick` (the
   * job being taken away, not a runbook error) is rethrown, so no runbook `catch` sees it.
   */
  fault(e: unknown, runbook: string, file: string, line: number, column: number): ErrorRecord;
}

/** A parameter as the runtime sees it, for validating job parameters before queueing. */
export interface ParamInfo {
  name: string;
  /** The declared type, as written in the source (`list<string>`, `number?`). */
  type: string;
  /** The declared type as data, for validation (compiler/types.ts `Type`). */
  typeData: Json;
  hasDefault: boolean;
}

/**
 * Where and how many of a runbook's jobs run (issue 14), as the header declares it. Evaluated by
 * the database when a job is created (migration 0011, runbook_placement), so it is data, not code.
 */
export interface Placement {
  /** `group "NAME"`: the worker group its jobs go to when the start does not name one. */
  group?: string;
  /** `concurrency (key: EXPR, limit: N)`. */
  concurrency?: { key: KeyPart[] | null; limit: number };
}

/** The rule for a worker group's name, wherever one is given (header, --group, the HTTP API). */
export const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;
export const GROUP_NAME_RULE = "letters, digits, _ . -; at most 63 characters";
/** The range of a job's priority (`start --priority`). */
export const MAX_PRIORITY = 1_000_000;

/** One part of a concurrency key, joined in order: literal text, or a parameter (or its field). */
export type KeyPart = { text: string } | { param: string[] };

/** What each emitted module exports as `runbook`. */
export interface CompiledRunbook {
  name: string;
  /** The `.runbook` file it was compiled from, as given to the compiler. */
  file: string;
  params: ParamInfo[];
  /** Declared result type as written, or null. */
  returns: string | null;
  /** Can any path of this runbook reach a suspension point (directly or through calls)? */
  canSuspend: boolean;
  /** Runbooks it calls inline or starts (their compiled code must be published with it). */
  calls: string[];
  /** `use` modules: alias → path as written. */
  uses: Record<string, string>;
  /** Locals to keep at each suspension pc (every other local is dead there). */
  live: Record<number, string[]>;
  /** Source position of each pc's first statement, for reports: pc → [line, column]. */
  positions: Record<number, [number, number]>;
  /** The header's `group "NAME"` and `concurrency (...)` (absent: neither). */
  placement?: Placement;
  /** Run this frame from frame.pc; mutates frame.pc and frame.locals. */
  step(frame: Frame, ctx: StepContext, input: Input): Promise<StepResult>;
}
