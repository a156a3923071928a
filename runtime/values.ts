// Operators and built-in pure functions on runbook values (the `Ops` of runtime/abi.ts).
//
// Every value is JSON. Helpers check their operands at run time, because `any` lets anything
// through the checker, and throw a RunbookFault with one sentence naming what was wrong; the
// emitted code passes the `.runbook` position of the expression, which the fault gets as it is
// raised. Numbers stay finite: NaN or ±Infinity is a fault.
// Durations are numbers of milliseconds, times ISO-8601 UTC strings, so `time + duration` is
// `string + number` at run time and a string counts as a time only in the ISO form.
import { randomUUID } from "node:crypto";
import { RunbookFault, type ErrorRecord, type Json, type Ops, type Outcome } from "./abi.js";

/** Where `now()` and `uuid()` come from: the real clock, or a deterministic one in tests. */
export interface Environment {
  /** Milliseconds since the epoch. */
  now(): number;
  uuid(): string;
}

export const realEnvironment: Environment = { now: () => Date.now(), uuid: () => randomUUID() };

/** The largest list `a..b` or `range()` may build (a typo like `0..1e12` must not eat memory). */
const MAX_RANGE = 10_000_000;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

type JsonMap = { [key: string]: Json };

// ---------------------------------------------------------------------------------------------
// Describing and testing values

function isMap(v: Json): v is JsonMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "a number", "a list", "null": how messages name a value's kind. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  switch (typeof v) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a bool";
    case "object":
      return "a map";
    default:
      return typeof v;
  }
}

function fault(message: string, data: Json = null, line?: number, column?: number): never {
  const f = new RunbookFault(message, data);
  if (line !== undefined && column !== undefined) {
    f.line = line;
    f.column = column;
  }
  throw f;
}

function finite(n: number, what: string, line?: number, column?: number): number {
  if (!Number.isFinite(n)) fault(`${what} is not a finite number`, null, line, column);
  return n === 0 ? 0 : n; // -0 would print as 0 but compare oddly; there is only one zero
}

function isTime(v: Json): v is string {
  return typeof v === "string" && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v));
}

function timeText(ms: number, line?: number, column?: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) fault("the time is out of range", null, line, column);
  return d.toISOString();
}

function quote(s: string): string {
  return JSON.stringify(s);
}

export function str(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !equal(a[k], b[k])) return false;
  return true;
}

function integer(v: Json, what: string): number {
  if (typeof v !== "number") fault(`${what} must be a number, not ${describe(v)}`);
  if (!Number.isInteger(v)) fault(`${what} ${v} is not an integer`);
  return v;
}

function rangeList(from: number, toExclusive: number): number[] {
  const n = toExclusive - from;
  if (n <= 0) return [];
  if (n > MAX_RANGE) fault(`a range of ${n} numbers is too large (at most ${MAX_RANGE})`);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = from + i;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Operators

// The hot helpers take the position themselves and pass it to the fault (no wrapper on the path
// a loop runs); the others are wrapped in createOps.

function add(a: Json, b: Json, line?: number, column?: number): Json {
  if (typeof a === "number" && typeof b === "number") return finite(a + b, "the sum", line, column);
  if (typeof a === "string" && typeof b === "number" && isTime(a)) return timeText(Date.parse(a) + b, line, column);
  if (typeof a === "number" && typeof b === "string" && isTime(b)) return timeText(a + Date.parse(b), line, column);
  if (typeof a === "string" && typeof b === "string") return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  return fault(`cannot add ${describe(b)} to ${describe(a)}`, null, line, column);
}

function sub(a: Json, b: Json, line?: number, column?: number): Json {
  if (typeof a === "number" && typeof b === "number") return finite(a - b, "the difference", line, column);
  if (isTime(a) && typeof b === "number") return timeText(Date.parse(a) - b, line, column);
  if (isTime(a) && isTime(b)) return finite(Date.parse(a) - Date.parse(b), "the difference", line, column);
  return fault(`cannot subtract ${describe(b)} from ${describe(a)}`, null, line, column);
}

/** `*`, `/`, `%` on two numbers. */
function arith(a: Json, b: Json, op: "*" | "/" | "%", line?: number, column?: number): number {
  if (typeof a !== "number" || typeof b !== "number") {
    const verb = op === "*" ? "multiply" : op === "/" ? "divide" : "take the remainder of";
    return fault(`cannot ${verb} ${describe(a)} and ${describe(b)}`, null, line, column);
  }
  if (op === "*") return finite(a * b, "the product", line, column);
  if (b === 0) fault(op === "/" ? "division by zero" : "remainder of a division by zero", null, line, column);
  return op === "/" ? finite(a / b, "the quotient", line, column) : finite(a % b, "the remainder", line, column);
}

function compare(a: Json, b: Json, op: string, line?: number, column?: number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") {
    // Two times compare as instants, so one written as `...00Z` and one as `...00.000+00:00`
    // (a job parameter not normalized) still order correctly.
    if (isTime(a) && isTime(b)) return Date.parse(a) - Date.parse(b);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return fault(`cannot compare ${describe(a)} ${op} ${describe(b)}`, null, line, column);
}

// ---------------------------------------------------------------------------------------------
// Member, index and persistent update

function member(o: Json, key: string, line?: number, column?: number): Json {
  if (!isMap(o)) return fault(`cannot read .${key} of ${describe(o)}`, null, line, column);
  if (!Object.hasOwn(o, key)) fault(`map has no key ${quote(key)}`, null, line, column);
  return o[key];
}

function optMember(o: Json, key: string): Json {
  if (o === null) return null;
  if (!isMap(o)) return fault(`cannot read ?.${key} of ${describe(o)}`);
  return Object.hasOwn(o, key) ? o[key] : null;
}

function listIndex(list: Json[], i: Json, line?: number, column?: number): number {
  if (typeof i !== "number") fault(`a list index must be a number, not ${describe(i)}`, null, line, column);
  if (!Number.isInteger(i)) fault(`index ${i} is not an integer`, null, line, column);
  if (i < 0 || i >= list.length) fault(`index ${i} is out of range for a list of ${list.length}`, null, line, column);
  return i;
}

function index(o: Json, i: Json, line?: number, column?: number): Json {
  if (Array.isArray(o)) return o[listIndex(o, i, line, column)];
  if (isMap(o)) {
    if (typeof i !== "string") fault(`a map key must be a string, not ${describe(i)}`, null, line, column);
    if (!Object.hasOwn(o, i)) fault(`map has no key ${quote(i)}`, null, line, column);
    return o[i];
  }
  return fault(`cannot index ${describe(o)}`, null, line, column);
}

function setPath(root: Json, path: Json[], value: Json, at = 0): Json {
  if (at === path.length) return value;
  const step = path[at];
  if (Array.isArray(root)) {
    const i = listIndex(root, step);
    const copy = root.slice();
    copy[i] = setPath(root[i], path, value, at + 1);
    return copy;
  }
  if (isMap(root)) {
    if (typeof step !== "string") fault(`a map key must be a string, not ${describe(step)}`);
    // The last step may add a key; a step through the middle must exist.
    if (at < path.length - 1 && !Object.hasOwn(root, step)) fault(`map has no key ${quote(step)}`);
    const next = Object.hasOwn(root, step) ? root[step] : null;
    return { ...root, [step]: setPath(next, path, value, at + 1) };
  }
  const where = typeof step === "string" ? `.${step}` : `[${str(step)}]`;
  return fault(`cannot set ${where} of ${describe(root)}`);
}

function iter(v: Json): Json[] {
  if (Array.isArray(v)) return v.slice();
  if (isMap(v)) return Object.keys(v);
  return fault(`cannot iterate over ${describe(v)}`);
}

function entries(v: Json): [Json, Json][] {
  if (Array.isArray(v)) return v.map((x, i) => [i, x]);
  if (isMap(v)) return Object.entries(v);
  return fault(`cannot iterate over ${describe(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Checking values from outside, and errors

/** The first part of `v` that is not JSON, as "PATH is WHAT", or null when all of it is. */
function notJson(v: unknown, path: string, seen: Set<object>): string | null {
  switch (typeof v) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(v) ? null : `${path} is ${v}, not a finite number`;
    case "undefined":
      return `${path} is undefined`;
    case "bigint":
      return `${path} is a bigint, not JSON`;
    case "function":
      return `${path} is a function, not JSON`;
    case "symbol":
      return `${path} is a symbol, not JSON`;
  }
  if (v === null) return null;
  const o = v as object;
  if (seen.has(o)) return `${path} refers back to itself (a cycle), not JSON`;
  if (Array.isArray(o)) {
    seen.add(o);
    for (let i = 0; i < o.length; i++) {
      const bad = notJson(o[i], `${path}[${i}]`, seen);
      if (bad) return bad;
    }
    seen.delete(o);
    return null;
  }
  const proto = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto?.constructor?.name as string | undefined) || "class instance";
    return `${path} is a ${name}, not JSON`;
  }
  seen.add(o);
  for (const [k, x] of Object.entries(o)) {
    const bad = notJson(x, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${quote(k)}]`, seen);
    if (bad) return bad;
  }
  seen.delete(o);
  return null;
}

function json(v: unknown, what: string): Json {
  const bad = notJson(v, what, new Set());
  if (bad) fault(bad);
  return v as Json;
}

/** An error raised by a callee or a child job travels up unchanged; this recognizes one. */
export function isErrorRecord(e: unknown): e is ErrorRecord {
  if (typeof e !== "object" || e === null) return false;
  const r = e as Record<string, unknown>;
  return (
    typeof r.message === "string" &&
    typeof r.runbook === "string" &&
    typeof r.file === "string" &&
    typeof r.line === "number" &&
    typeof r.column === "number" &&
    "data" in r
  );
}

/** An ErrorRecord thrown as an exception (by `StepContext.call` when the callee fails). */
export class RaisedError extends Error {
  constructor(public readonly record: ErrorRecord) {
    super(record.message);
  }
}

/**
 * Thrown by the driver's `StepContext.tick` (and by activity calls after it) when the job must
 * stop running here: it is the job being taken away, not a runbook error, so `ops.fault`
 * rethrows it past every runbook `catch` and the driver ends the resume with `outcome`.
 */
export class JobAbort extends Error {
  constructor(public readonly outcome: Extract<Outcome, { kind: "interrupted" | "failed" }>) {
    super(outcome.kind === "failed" ? outcome.error.message : outcome.reason);
  }
}

function toErrorRecord(e: unknown, runbook: string, file: string, line: number, column: number): ErrorRecord {
  if (e instanceof JobAbort) throw e;
  if (e instanceof RaisedError) return e.record;
  if (isErrorRecord(e)) return e;
  if (e instanceof RunbookFault) return { message: e.message, runbook, file, line: e.line ?? line, column: e.column ?? column, data: e.data };
  return { message: messageOf(e), runbook, file, line, column, data: null };
}

/** The message of something thrown that is not a RunbookFault (an activity's Error, a bug). */
function messageOf(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return "the value is nested too deeply";
  if (e instanceof Error) return e.message || e.name;
  return typeof e === "string" ? e : `${describe(e)} was thrown`;
}

/**
 * What a helper or a call threw, given the position of the expression that raised it: a
 * RunbookFault without a position gets this one, anything else a runbook can catch becomes a
 * RunbookFault here. The job's abort and errors that already carry a position (a callee's) pass
 * unchanged, as does everything when no position is given (code compiled before positions were
 * passed: `ops.fault` places those at its fallback).
 */
export function raisedAt(e: unknown, line: number | undefined, column: number | undefined): unknown {
  if (line === undefined || column === undefined) return e;
  if (e instanceof JobAbort || e instanceof RaisedError || isErrorRecord(e)) return e;
  const fault = e instanceof RunbookFault ? e : new RunbookFault(messageOf(e));
  if (fault.line === undefined) {
    fault.line = line;
    fault.column = column;
  }
  return fault;
}

// ---------------------------------------------------------------------------------------------
// Built-in pure functions

function text(v: Json, fn: string, arg = "argument"): string {
  if (typeof v !== "string") fault(`${fn}: the ${arg} must be a string, not ${describe(v)}`);
  return v;
}

function parseNumber(v: Json, fn: string): number {
  if (typeof v === "number") return v;
  const s = text(v, fn).trim();
  const n = s === "" ? NaN : Number(s);
  if (!Number.isFinite(n)) fault(`${fn}: ${quote(str(v))} is not a number`);
  return n;
}

function extreme(fn: "min" | "max", args: Json[]): Json {
  const xs = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
  if (xs.length === 0) fault(`${fn} of an empty list`);
  let best = xs[0];
  for (const x of xs) {
    if (typeof x !== "number") fault(`${fn}: expected numbers or durations, got ${describe(x)}`);
    if ((fn === "min" && x < (best as number)) || (fn === "max" && x > (best as number))) best = x;
  }
  if (typeof best !== "number") fault(`${fn}: expected numbers or durations, got ${describe(best)}`);
  return best;
}

type Builtin = (args: Json[], env: Environment) => Json;

/** Arity [min, max] and implementation of each built-in pure function. */
const BUILTINS: Record<string, [number, number, Builtin]> = {
  len: [1, 1, ([v]) => (typeof v === "string" || Array.isArray(v) ? v.length : isMap(v) ? Object.keys(v).length : fault(`len: cannot take the length of ${describe(v)}`))],
  str: [1, 1, ([v]) => str(v)],
  num: [1, 1, ([v]) => parseNumber(v, "num")],
  int: [1, 1, ([v]) => finite(Math.trunc(parseNumber(v, "int")), "int")],
  keys: [1, 1, ([m]) => (isMap(m) ? Object.keys(m) : fault(`keys: expected a map, got ${describe(m)}`))],
  values: [1, 1, ([m]) => (isMap(m) ? Object.values(m) : fault(`values: expected a map, got ${describe(m)}`))],
  contains: [2, 2, ([c, x]) => {
    if (Array.isArray(c)) return c.some((e) => equal(e, x));
    if (typeof c === "string") return c.includes(text(x, "contains", "second argument"));
    if (isMap(c)) return Object.hasOwn(c, text(x, "contains", "key"));
    return fault(`contains: expected a list, a string or a map, got ${describe(c)}`);
  }],
  split: [2, 2, ([s, sep]) => text(s, "split").split(text(sep, "split", "separator"))],
  join: [2, 2, ([l, sep]) => (Array.isArray(l) ? l.map(str).join(text(sep, "join", "separator")) : fault(`join: expected a list, got ${describe(l)}`))],
  trim: [1, 1, ([s]) => text(s, "trim").trim()],
  upper: [1, 1, ([s]) => text(s, "upper").toUpperCase()],
  lower: [1, 1, ([s]) => text(s, "lower").toLowerCase()],
  replace: [3, 3, ([s, a, b]) => text(s, "replace").replaceAll(text(a, "replace", "text to replace"), text(b, "replace", "replacement"))],
  starts_with: [2, 2, ([s, p]) => text(s, "starts_with").startsWith(text(p, "starts_with", "prefix"))],
  ends_with: [2, 2, ([s, p]) => text(s, "ends_with").endsWith(text(p, "ends_with", "suffix"))],
  range: [1, 2, (args) =>
    args.length === 1 ? rangeList(0, integer(args[0], "range: the end")) : rangeList(integer(args[0], "range: the start"), integer(args[1], "range: the end"))],
  min: [1, Infinity, (args) => extreme("min", args)],
  max: [1, Infinity, (args) => extreme("max", args)],
  json_parse: [1, 1, ([s]) => {
    try {
      return JSON.parse(text(s, "json_parse")) as Json;
    } catch (e) {
      if (e instanceof RunbookFault) throw e;
      return fault(`json_parse: not valid JSON: ${(e as Error).message}`);
    }
  }],
  json_string: [1, 1, ([v]) => JSON.stringify(v)],
  now: [0, 0, (_, env) => timeText(env.now())],
  time: [1, 1, ([s]) => {
    const ms = Date.parse(text(s, "time"));
    if (Number.isNaN(ms)) fault(`time: ${quote(s as string)} is not a time (use ISO-8601, e.g. "2026-01-01T00:00:00Z")`);
    return timeText(ms);
  }],
  uuid: [0, 0, (_, env) => env.uuid()],
};

export const BUILTIN_NAMES: readonly string[] = Object.keys(BUILTINS);

// ---------------------------------------------------------------------------------------------
// The Ops object

/** Ops whose `now()` and `uuid()` come from `env`. */
export function createOps(env: Environment = realEnvironment): Ops {
  // The helpers that can fault and are not given the position themselves are wrapped, so their
  // fault leaves with the position the emitted code passed (the last two arguments).
  return {
    add,
    sub,
    mul: (a, b, line, column) => arith(a, b, "*", line, column),
    div: (a, b, line, column) => arith(a, b, "/", line, column),
    mod: (a, b, line, column) => arith(a, b, "%", line, column),
    neg: (a, line, column) => (typeof a === "number" ? finite(-a, "the negation") : fault(`cannot negate ${describe(a)}`, null, line, column)),
    lt: (a, b, line, column) => compare(a, b, "<", line, column) < 0,
    le: (a, b, line, column) => compare(a, b, "<=", line, column) <= 0,
    gt: (a, b, line, column) => compare(a, b, ">", line, column) > 0,
    ge: (a, b, line, column) => compare(a, b, ">=", line, column) >= 0,
    eq: equal,
    range: (a, b, line, column) => {
      try {
        return rangeList(integer(a, "the start of a range"), integer(b, "the end of a range") + 1);
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
    bool: (v, line, column) => (typeof v === "boolean" ? v : fault(`a condition must be a bool, not ${describe(v)}`, null, line, column)),
    member,
    optMember: (o, key, line, column) => {
      try {
        return optMember(o, key);
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
    index,
    setPath: (root, path, value, line, column) => {
      try {
        return setPath(root, path, value);
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
    str,
    iter: (v, line, column) => {
      try {
        return iter(v);
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
    entries: (v, line, column) => {
      try {
        return entries(v);
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
    builtin: (name, args, line, column) => {
      try {
        return builtin(env, name, args);
      } catch (e) {
        throw raisedAt(e, line, column);
      }
    },
    json,
    fail: (message, line, column) => fault(str(message), typeof message === "string" ? null : message, line, column),
    fault: toErrorRecord,
  };
}

function builtin(env: Environment, name: string, args: Json[]): Json {
  const entry = BUILTINS[name];
  if (!entry) return fault(`there is no built-in function ${name}()`);
  const [min, max, fn] = entry;
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} or ${max}`;
    fault(`${name}() takes ${want} argument${/(^| )1$/.test(want) ? "" : "s"}, got ${args.length}`);
  }
  return fn(args, env);
}

/** Ops with the real clock and random ids: what the worker uses. */
export const ops: Ops = createOps();
