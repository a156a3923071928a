// Signatures of the built-in pure functions and the built-in activities (BRIEF / LANGUAGE.md).
// Pure functions are polymorphic (`len` of a string, list or map), so each one carries a small
// check function instead of a parameter list; built-in activities are plain ActivitySignatures
// and are checked exactly like `use` module functions.
import type { ActivitySignature } from "./checked.js";
import { T, isAssignable, mapValueType, nonNull, type Type } from "./types.js";

export interface BuiltinCheck {
  /** Report that argument `index` (0-based) should be `expected` (as words: "a string or a list"). */
  mismatch(index: number, expected: string): void;
}

export interface BuiltinFunction {
  name: string;
  /** How many arguments it takes, as words for messages, and the bounds. */
  arity: { min: number; max: number; text: string };
  /** Checks the argument types (already computed) and returns the result type. */
  check(args: Type[], c: BuiltinCheck): Type;
}

/** Does `t` fit one of these kinds? `any` and `error` fit everything. */
function is(t: Type, ...kinds: Type["kind"][]): boolean {
  return t.kind === "any" || t.kind === "error" || kinds.includes(t.kind);
}

function fn(name: string, min: number, max: number, check: BuiltinFunction["check"]): BuiltinFunction {
  const text =
    min === max
      ? `${min === 0 ? "no" : min} argument${min === 1 ? "" : "s"}`
      : max === Infinity
        ? `at least ${min} argument${min === 1 ? "" : "s"}`
        : `${min} or ${max} arguments`;
  return { name, arity: { min, max, text }, check };
}

/** Arguments that must all be strings; the result is `result`. */
function strings(name: string, count: number, result: Type): BuiltinFunction {
  return fn(name, count, count, (args, c) => {
    args.forEach((a, i) => is(a, "string") || c.mismatch(i, "string"));
    return result;
  });
}

/** min/max: numbers or durations, as varargs or one list. */
function extremum(name: string): BuiltinFunction {
  return fn(name, 1, Infinity, (args, c) => {
    if (args.length === 1 && args[0]!.kind === "list") {
      const e = args[0].element;
      if (is(e, "number", "duration")) return e.kind === "duration" ? T.duration : e.kind === "number" ? T.number : T.any;
      c.mismatch(0, "a list of numbers or durations");
      return T.error;
    }
    const kinds = new Set(args.filter((a) => a.kind !== "any" && a.kind !== "error").map((a) => a.kind));
    args.forEach((a, i) => is(a, "number", "duration") || c.mismatch(i, "number or duration"));
    if (kinds.has("number") && kinds.has("duration")) {
      const i = args.findIndex((a) => a.kind === "duration");
      c.mismatch(i, "number (the other arguments are numbers)");
      return T.error;
    }
    return kinds.has("duration") ? T.duration : kinds.has("number") ? T.number : T.any;
  });
}

const functions: BuiltinFunction[] = [
  fn("len", 1, 1, ([a], c) => {
    if (!is(a!, "string", "list", "map", "record")) c.mismatch(0, "string, list or map");
    return T.number;
  }),
  fn("str", 1, 1, () => T.string),
  fn("num", 1, 1, ([a], c) => {
    if (!is(a!, "string", "number")) c.mismatch(0, "string or number");
    return T.number;
  }),
  fn("int", 1, 1, ([a], c) => {
    if (!is(a!, "string", "number")) c.mismatch(0, "number or string");
    return T.number;
  }),
  fn("keys", 1, 1, ([a], c) => {
    if (!is(a!, "map", "record")) c.mismatch(0, "map");
    return T.list(T.string);
  }),
  fn("values", 1, 1, ([a], c) => {
    if (!is(a!, "map", "record")) {
      c.mismatch(0, "map");
      return T.list(T.any);
    }
    return T.list(mapValueType(a!));
  }),
  fn("contains", 2, 2, ([a, x], c) => {
    if (a!.kind === "list") {
      if (!isAssignable(x!, a.element) && !isAssignable(a.element, x!)) c.mismatch(1, `${elementWords(a.element)} (an element of the list)`);
    } else if (a!.kind === "string" || a!.kind === "map" || a!.kind === "record") {
      if (!is(x!, "string")) c.mismatch(1, a!.kind === "string" ? "string" : "string (a key)");
    } else if (!is(a!, "list", "string", "map")) c.mismatch(0, "list, string or map");
    return T.bool;
  }),
  strings("split", 2, T.list(T.string)),
  fn("join", 2, 2, ([a, sep], c) => {
    if (!is(a!, "list")) c.mismatch(0, "list");
    if (!is(sep!, "string")) c.mismatch(1, "string");
    return T.string;
  }),
  strings("trim", 1, T.string),
  strings("upper", 1, T.string),
  strings("lower", 1, T.string),
  strings("replace", 3, T.string),
  strings("starts_with", 2, T.bool),
  strings("ends_with", 2, T.bool),
  fn("range", 1, 2, (args, c) => {
    args.forEach((a, i) => is(a, "number") || c.mismatch(i, "number"));
    return T.list(T.number);
  }),
  extremum("min"),
  extremum("max"),
  strings("json_parse", 1, T.any),
  fn("json_string", 1, 1, () => T.string),
  fn("now", 0, 0, () => T.time),
  strings("time", 1, T.time),
  fn("uuid", 0, 0, () => T.string),
];

function elementWords(t: Type): string {
  return t.kind === "optional" ? `${nonNull(t).kind} or null` : t.kind;
}

export const BUILTIN_FUNCTIONS: ReadonlyMap<string, BuiltinFunction> = new Map(functions.map((f) => [f.name, f]));

const opt = (name: string, type: Type) => ({ name, type, optional: true });
const req = (name: string, type: Type) => ({ name, type, optional: false });

export const BUILTIN_ACTIVITIES: ReadonlyMap<string, ActivitySignature> = new Map(
  (
    [
      {
        module: "",
        name: "exec",
        params: [req("argv", T.list(T.string)), opt("timeout", T.duration), opt("env", T.map(T.string))],
        returns: T.record({ code: T.number, stdout: T.string, stderr: T.string }),
      },
      {
        module: "",
        name: "http",
        params: [req("method", T.string), req("url", T.string), opt("headers", T.map(T.string)), opt("body", T.any)],
        returns: T.record({ status: T.number, headers: T.map(T.string), body: T.any }),
      },
      {
        module: "",
        name: "sql",
        params: [req("query", T.string), opt("params", T.list(T.any)), opt("connection", T.string)],
        returns: T.list(T.map(T.any)),
      },
      { module: "", name: "asset", params: [req("name", T.string)], returns: T.any },
      {
        module: "",
        name: "asset_set",
        params: [req("name", T.string), req("value", T.any), opt("secret", T.bool)],
        returns: T.null,
      },
    ] satisfies ActivitySignature[]
  ).map((a) => [a.name, a]),
);

/** Names a runbook may not take, and the candidates for "did you mean" on an unknown call. */
export const BUILTIN_NAMES: string[] = [...BUILTIN_FUNCTIONS.keys(), ...BUILTIN_ACTIVITIES.keys()];

