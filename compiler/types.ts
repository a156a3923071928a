// Static types of the runbook language as data. The checker (compiler/checker.ts) computes them;
// activity declarations (compiler/activities.ts) are mapped into them from TypeScript; the
// runtime validates job parameters against them (they are JSON, stored in ParamInfo.typeData).
//
// `error` is the type of an expression that already has a diagnostic: it is compatible with
// everything, so one mistake is reported once, not at every use.
import type { TypeNode } from "../grammar/ast.js";

export type Type =
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "bool" }
  | { kind: "duration" }
  | { kind: "time" }
  | { kind: "null" }
  | { kind: "any" }
  | { kind: "list"; element: Type }
  | { kind: "map"; value: Type }
  | { kind: "record"; fields: { [name: string]: Type } }
  | { kind: "optional"; inner: Type }
  | { kind: "error" };

// ---------------------------------------------------------------------------------------------
// Constructors (shared instances for the scalar types; types are never mutated)

export const T = {
  string: { kind: "string" } as Type,
  number: { kind: "number" } as Type,
  bool: { kind: "bool" } as Type,
  duration: { kind: "duration" } as Type,
  time: { kind: "time" } as Type,
  null: { kind: "null" } as Type,
  any: { kind: "any" } as Type,
  error: { kind: "error" } as Type,
  list: (element: Type): Type => ({ kind: "list", element }),
  map: (value: Type): Type => ({ kind: "map", value }),
  record: (fields: { [name: string]: Type }): Type => ({ kind: "record", fields }),
  /** `T?`; never nests (`T??` is `T?`), and `null?`, `any?` stay as they are. */
  optional: (inner: Type): Type =>
    inner.kind === "optional" || inner.kind === "null" || inner.kind === "any" || inner.kind === "error"
      ? inner
      : { kind: "optional", inner },
};

/** The named types an annotation may use. */
export const NAMED_TYPES: Record<string, Type> = {
  string: T.string,
  number: T.number,
  bool: T.bool,
  duration: T.duration,
  time: T.time,
  any: T.any,
};

/** The error record bound by `catch err`. */
export const ERROR_RECORD: Type = T.record({
  message: T.string,
  runbook: T.string,
  line: T.number,
  column: T.number,
  data: T.any,
});

// ---------------------------------------------------------------------------------------------
// Printing

/** The type as an author writes it: `list<string>`, `{name: string, size: number}?`. */
export function typeToString(t: Type): string {
  switch (t.kind) {
    case "list":
      return `list<${typeToString(t.element)}>`;
    case "map":
      return `map<${typeToString(t.value)}>`;
    case "record":
      return `{${Object.entries(t.fields)
        .map(([name, f]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : JSON.stringify(name)}: ${typeToString(f)}`)
        .join(", ")}}`;
    case "optional":
      return `${typeToString(t.inner)}?`;
    case "error":
      return "<error>";
    default:
      return t.kind;
  }
}

/**
 * A type as diagnostics show it: like typeToString, but a record with many fields shows its
 * first few and how many more, so a message about a big activity result stays one short line.
 */
export function describeType(t: Type, maxFields = 4): string {
  switch (t.kind) {
    case "list":
      return `list<${describeType(t.element, maxFields)}>`;
    case "map":
      return `map<${describeType(t.value, maxFields)}>`;
    case "optional":
      return `${describeType(t.inner, maxFields)}?`;
    case "record": {
      const entries = Object.entries(t.fields);
      const shown = entries
        .slice(0, maxFields)
        .map(([name, f]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : JSON.stringify(name)}: ${describeType(f, 2)}`);
      if (entries.length > maxFields) shown.push(`…${entries.length - maxFields} more`);
      return `{${shown.join(", ")}}`;
    }
    default:
      return typeToString(t);
  }
}

// ---------------------------------------------------------------------------------------------
// Annotations

/**
 * The type an annotation denotes. Unknown names become `error` and are passed to `unknown`
 * (the checker reports them with a hint), so a bad annotation is reported once.
 */
export function typeFromNode(node: TypeNode, unknown: (name: string, node: TypeNode) => void): Type {
  switch (node.kind) {
    case "NamedType": {
      const t = NAMED_TYPES[node.name];
      if (t) return t;
      unknown(node.name, node);
      return T.error;
    }
    case "ListType":
      return T.list(typeFromNode(node.element, unknown));
    case "MapType":
      return T.map(typeFromNode(node.value, unknown));
    case "RecordType": {
      const fields: { [name: string]: Type } = {};
      for (const f of node.fields) fields[f.name.name] = typeFromNode(f.type, unknown);
      return T.record(fields);
    }
    case "OptionalType":
      return T.optional(typeFromNode(node.inner, unknown));
  }
}

// ---------------------------------------------------------------------------------------------
// Relations

/** Does a value of type `from` fit where `to` is expected? (`any` and `error` fit both ways.) */
export function isAssignable(from: Type, to: Type): boolean {
  if (from.kind === "error" || to.kind === "error" || from.kind === "any" || to.kind === "any") return true;
  if (to.kind === "optional") {
    if (from.kind === "null") return true;
    if (from.kind === "optional") return isAssignable(from.inner, to.inner);
    return isAssignable(from, to.inner);
  }
  switch (from.kind) {
    case "list":
      return to.kind === "list" && isAssignable(from.element, to.element);
    case "map":
      return to.kind === "map" && isAssignable(from.value, to.value);
    case "record":
      if (to.kind === "map") return Object.values(from.fields).every((f) => isAssignable(f, to.value));
      if (to.kind !== "record") return false;
      // Width subtyping: extra fields are fine; a missing field is fine only where null is.
      return Object.entries(to.fields).every(([name, want]) => {
        const have = from.fields[name];
        return have === undefined ? isAssignable(T.null, want) : isAssignable(have, want);
      });
    case "optional":
      return false;
    default:
      return from.kind === to.kind;
  }
}

export function isSameType(a: Type, b: Type): boolean {
  return isAssignable(a, b) && isAssignable(b, a);
}

/** Strip `?`: the type of the value when it is not null. */
export function nonNull(t: Type): Type {
  return t.kind === "optional" ? t.inner : t;
}

/** Can a value of this type be null? */
export function isNullable(t: Type): boolean {
  return t.kind === "optional" || t.kind === "null" || t.kind === "any" || t.kind === "error";
}

/**
 * The least type both fit in, for list literals and `??`: `number` and `null` join to
 * `number?`, records join to their common fields, a record and a map join to a map.
 * `undefined` when there is none (`number` and `string`).
 */
export function join(a: Type, b: Type): Type | undefined {
  if (a.kind === "error" || b.kind === "error") return T.error;
  if (a.kind === "any" || b.kind === "any") return T.any;
  if (a.kind === "null") return T.optional(b);
  if (b.kind === "null") return T.optional(a);
  if (a.kind === "optional" || b.kind === "optional") {
    const inner = join(nonNull(a), nonNull(b));
    return inner && T.optional(inner);
  }
  if (a.kind === "list" && b.kind === "list") {
    const element = join(a.element, b.element);
    return element && T.list(element);
  }
  if (a.kind === "record" && b.kind === "record") {
    const fields: { [name: string]: Type } = {};
    for (const name of Object.keys(a.fields)) {
      const fb = b.fields[name];
      if (fb === undefined) {
        fields[name] = T.optional(a.fields[name]!);
        continue;
      }
      const f = join(a.fields[name]!, fb);
      if (!f) return joinAsMaps(a, b);
      fields[name] = f;
    }
    for (const name of Object.keys(b.fields)) if (!(name in a.fields)) fields[name] = T.optional(b.fields[name]!);
    return T.record(fields);
  }
  if ((a.kind === "map" || a.kind === "record") && (b.kind === "map" || b.kind === "record")) return joinAsMaps(a, b);
  if (isAssignable(a, b)) return b;
  if (isAssignable(b, a)) return a;
  return undefined;
}

function joinAsMaps(a: Type, b: Type): Type | undefined {
  const value = joinAll([...mapValueTypes(a), ...mapValueTypes(b)]);
  return value && T.map(value);
}

function mapValueTypes(t: Type): Type[] {
  if (t.kind === "map") return [t.value];
  if (t.kind === "record") return Object.values(t.fields);
  return [t];
}

/** Join of a list of types (`any` for none); `undefined` when two of them have no join. */
export function joinAll(types: Type[]): Type | undefined {
  if (types.length === 0) return T.any;
  let acc: Type | undefined = types[0]!;
  for (const t of types.slice(1)) {
    acc = join(acc, t);
    if (!acc) return undefined;
  }
  return acc;
}

/** The value type of a map or record, for `values(m)` and `for k, v in m`. */
export function mapValueType(t: Type): Type {
  if (t.kind === "map") return t.value;
  if (t.kind === "record") return joinAll(Object.values(t.fields)) ?? T.any;
  return T.any;
}

// ---------------------------------------------------------------------------------------------
// Run-time validation of JSON values (job parameters before queueing)

/**
 * Check a JSON value against a type. Returns null when it fits, else one sentence saying where
 * and what, e.g. `[2].name: expected string, got number 5`.
 */
export function validateValue(value: unknown, type: Type): string | null {
  return validateAt(value, type, "");
}

function validateAt(value: unknown, type: Type, path: string): string | null {
  const fail = (expected: string) => `${path ? `${path}: ` : ""}expected ${expected}, got ${describe(value)}`;
  switch (type.kind) {
    case "any":
    case "error":
      return isJson(value) ? null : fail("a JSON value");
    case "null":
      return value === null ? null : fail("null");
    case "optional":
      return value === null || value === undefined ? null : validateAt(value, type.inner, path);
    case "string":
      return typeof value === "string" ? null : fail("string");
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? null : fail("number");
    case "bool":
      return typeof value === "boolean" ? null : fail("bool");
    case "duration":
      return typeof value === "number" && Number.isFinite(value) && value >= 0
        ? null
        : fail("duration (milliseconds, a number of at least 0)");
    case "time":
      return typeof value === "string" && !Number.isNaN(Date.parse(value)) && /^\d{4}-\d\d-\d\dT/.test(value)
        ? null
        : fail("time (an ISO-8601 string such as 2026-01-01T00:00:00Z)");
    case "list": {
      if (!Array.isArray(value)) return fail(typeToString(type));
      for (let i = 0; i < value.length; i++) {
        const e = validateAt(value[i], type.element, `${path}[${i}]`);
        if (e) return e;
      }
      return null;
    }
    case "map": {
      if (!isPlainObject(value)) return fail(typeToString(type));
      for (const [k, v] of Object.entries(value)) {
        const e = validateAt(v, type.value, memberPath(path, k));
        if (e) return e;
      }
      return null;
    }
    case "record": {
      if (!isPlainObject(value)) return fail(typeToString(type));
      for (const [name, t] of Object.entries(type.fields)) {
        const v = Object.prototype.hasOwnProperty.call(value, name) ? value[name] : undefined;
        if (v === undefined && !isNullable(t)) return `${memberPath(path, name)}: missing field of type ${typeToString(t)}`;
        const e = validateAt(v === undefined ? null : v, t, memberPath(path, name));
        if (e) return e;
      }
      for (const [k, v] of Object.entries(value)) if (!(k in type.fields) && !isJson(v)) return `${memberPath(path, k)}: not a JSON value`;
      return null;
    }
  }
}

function memberPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path ? `${path}.` : ""}${key}` : `${path}[${JSON.stringify(key)}]`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isJson(v: unknown, depth = 0): boolean {
  if (depth > 1000) return false;
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((e) => isJson(e, depth + 1));
  if (isPlainObject(v)) return Object.values(v).every((e) => isJson(e, depth + 1));
  return false;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "number") return `number ${v}`;
  if (typeof v === "boolean") return `bool ${v}`;
  return typeof v;
}

// ---------------------------------------------------------------------------------------------
// Operators (BRIEF "Operators"): the result type, or undefined when the operands do not fit.
// `==`, `!=` and `??` are typed by the checker, which needs more than the two types.

type BinaryOp = "or" | "and" | "==" | "!=" | "<" | "<=" | ">" | ">=" | ".." | "+" | "-" | "*" | "/" | "%" | "??";

const ORDERED = new Set<Type["kind"]>(["number", "duration", "string", "time"]);

export function binaryType(op: BinaryOp, l: Type, r: Type): Type | undefined {
  if (l.kind === "error" || r.kind === "error") return T.error;
  const lk = l.kind;
  const rk = r.kind;
  const loose = lk === "any" || rk === "any";
  switch (op) {
    case "and":
    case "or":
      return (lk === "bool" || lk === "any") && (rk === "bool" || rk === "any") ? T.bool : undefined;
    case "==":
    case "!=":
      return T.bool;
    case "<":
    case "<=":
    case ">":
    case ">=":
      if (loose) return withAnySide(lk, rk, [...ORDERED], T.bool);
      return lk === rk && ORDERED.has(lk) ? T.bool : undefined;
    case "..":
      return (lk === "number" || lk === "any") && (rk === "number" || rk === "any") ? T.list(T.number) : undefined;
    case "+":
      if (loose) return withAnySide(lk, rk, ["number", "string", "list", "duration", "time"], T.any);
      if (lk === "list" && rk === "list") {
        const element = join(l.element, r.element);
        return element && T.list(element);
      }
      if (lk === "time" && rk === "duration") return T.time;
      return lk === rk && (lk === "number" || lk === "string" || lk === "duration") ? l : undefined;
    case "-":
      if (loose) return withAnySide(lk, rk, ["number", "duration", "time"], T.any);
      if (lk === "time" && rk === "duration") return T.time;
      if (lk === "time" && rk === "time") return T.duration;
      return lk === rk && (lk === "number" || lk === "duration") ? l : undefined;
    case "*":
      if (loose) return withAnySide(lk, rk, ["number", "duration"], T.any);
      if (lk === "number" && rk === "number") return T.number;
      if ((lk === "duration" && rk === "number") || (lk === "number" && rk === "duration")) return T.duration;
      return undefined;
    case "/":
      if (loose) return withAnySide(lk, rk, ["number", "duration"], T.any);
      if (lk === "number" && rk === "number") return T.number;
      if (lk === "duration" && rk === "number") return T.duration;
      if (lk === "duration" && rk === "duration") return T.number;
      return undefined;
    case "%":
      if (loose) return withAnySide(lk, rk, ["number"], T.number);
      return lk === "number" && rk === "number" ? T.number : undefined;
    case "??":
      return undefined;
  }
}

/**
 * With `any` on one side (`lk` or `rk`), the other side must be one of `kinds`; the result is
 * `result`. A function of its own, not a closure in binaryType: tsx names every named closure
 * when it is made (an Object.defineProperty per call), which cost the checker ~8%.
 */
function withAnySide(lk: Type["kind"], rk: Type["kind"], kinds: Type["kind"][], result: Type): Type | undefined {
  return kinds.includes(lk === "any" ? rk : lk) || (lk === "any" && rk === "any") ? result : undefined;
}

export function unaryType(op: "-" | "not", t: Type): Type | undefined {
  if (t.kind === "error" || t.kind === "any") return op === "not" ? T.bool : t;
  if (op === "not") return t.kind === "bool" ? T.bool : undefined;
  return t.kind === "number" || t.kind === "duration" ? t : undefined;
}
