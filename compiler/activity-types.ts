// TypeScript → runbook types: maps each exported function of an activity module (a ts-morph
// SourceFile already loaded by activities.ts) to an ActivityFunction, the signature the checker
// checks calls against, and finds the types that cannot travel as JSON. Separate from
// activities.ts, which finds, loads and caches modules; this file is only the mapping. Its text
// is part of the declaration cache's "mapper version" (activity-cache.ts): editing it
// invalidates every cached entry.
//
// An activity is `fn(args: { ...named arguments }, ctx?: ActivityContext): T | Promise<T>`.
// Its argument object's properties become `params` (declaration order), its result type with
// `Promise<T>` unwrapped becomes `returns`. A type that cannot travel as JSON is not an
// exception: the function is still listed, with `unserializable` (its result) or
// `unsupportedParam` (its argument object) holding a one-line message that names the offending
// part; the affected type is then `{ kind: "error" }` so the checker reports it once.
import type { Node as NodeValue, SourceFile, Symbol as TsSymbol, Type as TsType, ts as TsNamespace } from "ts-morph";
import type { Span } from "../grammar/ast.js";
import type { ActivitySignature } from "./checked.js";
import type { Type } from "./types.js";


export interface ActivityFunction extends ActivitySignature {
  /** Where the function is declared in the `.ts` module (file as seen from the runbook). */
  declaration: Span;
  /** Set when the result type is not JSON-representable: the whole message for the call. */
  unserializable?: string;
  /** Set when the argument list or a property of the argument object has no runbook type. */
  unsupportedParam?: string;
}

// ts-morph is loaded by activities.ts on the first `use` (not with the compiler); it hands the
// values the mapping needs over here then.
type Node = NodeValue;
let Node: typeof NodeValue;
let ts: typeof TsNamespace;
export function bindTsMorph(morph: typeof import("ts-morph")): void {
  Node = morph.Node;
  ts = morph.ts;
}

/** Each exported function of `sf` (not classes, not `default`), keyed by name, into `out`. */
export function readFunctions(sf: SourceFile, file: string, out: Map<string, ActivityFunction>): void {
  for (const [name, decls] of sf.getExportedDeclarations()) {
    if (name === "default") continue;
    const decl = decls[0];
    if (!decl) continue;
    const type = decl.getType();
    const signatures = type.getCallSignatures();
    if (signatures.length === 0 || Node.isClassDeclaration(decl)) continue;
    // Overloads: the last declared signature is the one callers see first in TS; we take the
    // first, which is what `fn(...)` resolves to for a plain object argument.
    const sig = signatures[0];
    const fn: ActivityFunction = {
      module: "",
      name,
      params: [],
      returns: { kind: "error" },
      declaration: spanOf(declarationNode(decl), file),
    };
    readParams(fn, sig.getParameters(), decl);
    const ret = unwrapPromise(sig.getReturnType());
    const mapped = mapType(ret, decl, "return", []);
    if ("problem" in mapped) {
      fn.unserializable = `${name} returns ${shape(mapped.path, mapped.offender)}: ${mapped.problem}`;
    } else {
      fn.returns = mapped.type;
    }
    out.set(name, fn);
  }
}

/** The statement to point at: `export const f = ...` rather than just `f = ...`. */
function declarationNode(decl: Node): Node {
  if (Node.isVariableDeclaration(decl)) return decl.getVariableStatement() ?? decl;
  return decl;
}

function spanOf(node: Node, file: string): Span {
  const sf = node.getSourceFile();
  const start = node.getStart();
  const end = node.getEnd();
  const s = sf.getLineAndColumnAtPos(start);
  const e = sf.getLineAndColumnAtPos(end);
  return {
    file,
    start: { line: s.line, column: s.column, offset: start },
    end: { line: e.line, column: e.column, offset: end },
  };
}

function readParams(fn: ActivityFunction, params: TsSymbol[], at: Node): void {
  // Parameters after the first are the context (and anything optional the runtime won't pass).
  for (const extra of params.slice(2)) {
    if (!extra.isOptional() && !isRestParam(extra)) {
      fn.unsupportedParam = `${fn.name} has a required parameter '${extra.getName()}' after its context; an activity takes (args, ctx?)`;
      return;
    }
  }
  const first = params[0];
  if (!first) return;
  let argType = first.getTypeAtLocation(at);
  argType = withoutNullish(argType);
  if (argType.isAny() || argType.isUnknown()) return;
  if (!isObjectLike(argType) || argType.getCallSignatures().length > 0 || argType.isArray() || argType.isTuple()) {
    fn.unsupportedParam = `${fn.name} takes ${argType.getText(at)} as its first parameter: an activity takes one object of named arguments, e.g. (args: { name: string })`;
    // One parameter of the error type, so the call is not also reported for its arity.
    fn.params.push({ name: first.getName(), type: { kind: "error" }, optional: first.isOptional() });
    return;
  }
  if (argType.getStringIndexType() && argType.getProperties().length === 0) {
    fn.unsupportedParam = `${fn.name} takes ${argType.getText(at)}: an activity's argument object needs named properties`;
    return;
  }
  for (const prop of argType.getProperties()) {
    // A left-out optional argument arrives as null, so `x?: T` and `x: T | null` both make an
    // optional parameter; the type keeps `T?` only when null is declared (like the built-ins).
    const propType = prop.getTypeAtLocation(at);
    const optional = prop.isOptional() || includesNullish(propType);
    const mapped = mapType(withoutUndefined(propType), at, "param", [prop.getName()], [], true);
    if ("problem" in mapped) {
      fn.unsupportedParam ??= `${fn.name} takes ${shape(mapped.path, mapped.offender)}: ${mapped.problem}`;
      fn.params.push({ name: prop.getName(), type: { kind: "error" }, optional });
    } else {
      fn.params.push({ name: prop.getName(), type: mapped.type, optional });
    }
  }
}

function isRestParam(sym: TsSymbol): boolean {
  const d = sym.getValueDeclaration();
  return d !== undefined && Node.isParameterDeclaration(d) && d.isRestParameter();
}

// ---------------------------------------------------------------------------------------------
// TypeScript type → runbook type

type Direction = "return" | "param";
/** A path step: a property name, "[]" for an element, "{}" for a map value. */
type Step = string;
type Mapped = { type: Type } | { problem: string; path: Step[]; offender: string };

const NOT_JSON: Record<string, { return: string; param: string }> = {
  Date: { return: "Date is not serializable; return an ISO string", param: "Date is not serializable; take an ISO string" },
  Map: { return: "Map is not serializable; return a plain object", param: "Map is not serializable; take a plain object" },
  ReadonlyMap: { return: "ReadonlyMap is not serializable; return a plain object", param: "ReadonlyMap is not serializable; take a plain object" },
  Set: { return: "Set is not serializable; return an array", param: "Set is not serializable; take an array" },
  ReadonlySet: { return: "ReadonlySet is not serializable; return an array", param: "ReadonlySet is not serializable; take an array" },
};
const OTHER_NOT_JSON = new Set([
  "WeakMap", "WeakSet", "RegExp", "Error", "Promise", "Buffer", "ArrayBuffer", "SharedArrayBuffer", "DataView",
  "Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float32Array",
  "Float64Array", "BigInt64Array", "BigUint64Array", "Uint8ClampedArray", "URL", "Blob", "ReadableStream",
  "AbortSignal", "Response", "Request", "Headers",
]);

/** `absentUndefined`: an `undefined` member of a top-level union means "left out", not null. */
function mapType(t: TsType, at: Node, dir: Direction, path: Step[], seen: TsType[] = [], absentUndefined = false): Mapped {
  const problem = (text: string, offender: string): Mapped => ({ problem: text, path, offender });
  const flags = t.getFlags();
  if (t.isAny() || t.isUnknown()) return { type: { kind: "any" } };
  if (flags & ts.TypeFlags.Never) return { type: { kind: "null" } };
  if (t.isString() || t.isStringLiteral() || t.isTemplateLiteral() || flags & ts.TypeFlags.StringMapping) return { type: { kind: "string" } };
  if (t.isNumber() || t.isNumberLiteral()) return { type: { kind: "number" } };
  if (t.isBoolean() || t.isBooleanLiteral()) return { type: { kind: "bool" } };
  if (t.isNull()) return { type: { kind: "null" } };
  if (t.isUndefined() || t.isVoid()) {
    if (path.length === 0) return { type: { kind: "null" } };
    return problem("undefined is not serializable inside a value; use null or an optional property", "undefined");
  }
  if (t.isBigInt() || t.isBigIntLiteral()) return problem(`bigint is not serializable; ${dir === "return" ? "return" : "take"} a number or a string`, "bigint");
  if (flags & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) return problem("symbol is not serializable", "symbol");
  // Enums: a string enum is a union of string literals (handled with unions); what is left
  // here is a numeric enum or one of its members.
  if (flags & (ts.TypeFlags.Enum | ts.TypeFlags.EnumLiteral) && !t.isUnion()) return { type: { kind: "number" } };
  if (t.isTypeParameter()) {
    const c = t.getConstraint();
    return c ? mapType(c, at, dir, path, seen) : { type: { kind: "any" } };
  }
  if (t.isUnion()) return mapUnion(t, at, dir, path, seen, absentUndefined);
  if (seen.some((s) => s.compilerType === t.compilerType)) return { type: { kind: "any" } }; // recursive type
  const inner = [...seen, t];

  if (t.getCallSignatures().length > 0 || t.getConstructSignatures().length > 0) {
    return problem("a function is not serializable", t.getText(at));
  }
  const symbolName = (t.getSymbol() ?? t.getAliasSymbol())?.getName();
  if (t.isArray() || t.isReadonlyArray()) {
    const el = t.getArrayElementType() ?? t.getTypeArguments()[0];
    if (!el) return { type: { kind: "list", element: { kind: "any" } } };
    if (includesNullish(el) && el.getUnionTypes().some((u) => u.isUndefined() || u.isVoid())) {
      return { problem: "undefined is not serializable inside an array; use null", path: [...path, "[]"], offender: el.getText(at) };
    }
    const m = mapType(el, at, dir, [...path, "[]"], inner);
    return "problem" in m ? m : { type: { kind: "list", element: m.type } };
  }
  if (t.isTuple()) {
    const elements: Type[] = [];
    for (const [i, el] of t.getTupleElements().entries()) {
      const m = mapType(el, at, dir, [...path, `[${i}]`], inner);
      if ("problem" in m) return m;
      elements.push(m.type);
    }
    const same = elements.every((e) => JSON.stringify(e) === JSON.stringify(elements[0]));
    return { type: { kind: "list", element: same && elements[0] ? elements[0] : { kind: "any" } } };
  }
  if (symbolName && NOT_JSON[symbolName]) return problem(NOT_JSON[symbolName][dir], t.getText(at));
  if (symbolName && OTHER_NOT_JSON.has(symbolName)) return problem(`${symbolName} is not serializable`, t.getText(at));
  const symbol = t.getSymbol();
  if (symbol && symbol.getDeclarations().some((d) => Node.isClassDeclaration(d))) {
    return problem(`an instance of class ${symbol.getName()} is not serializable; ${dir === "return" ? "return" : "take"} a plain object`, symbol.getName());
  }
  if (!isObjectLike(t)) return problem(`${t.getText(at)} is not serializable`, t.getText(at));

  const props = t.getProperties();
  const index = t.getStringIndexType() ?? t.getNumberIndexType();
  if (props.length === 0) {
    if (!index) return { type: { kind: "map", value: { kind: "any" } } }; // `object`, `{}`
    const m = mapType(index, at, dir, [...path, "{}"], inner);
    return "problem" in m ? m : { type: { kind: "map", value: m.type } };
  }
  const fields: { [name: string]: Type } = {};
  for (const prop of props) {
    const name = prop.getName();
    const pt = prop.getTypeAtLocation(at);
    if (pt.getCallSignatures().length > 0 && isMethod(prop)) {
      return { problem: "a function (method) is not serializable", path: [...path, name], offender: "function" };
    }
    const optional = prop.isOptional() || hasUndefined(pt);
    const base = optional ? withoutUndefined(pt) : pt;
    if (base.isUndefined() || base.isVoid() || base.isNever()) {
      return { problem: "undefined is not serializable inside an object; use null or an optional property", path: [...path, name], offender: "undefined" };
    }
    const m = mapType(base, at, dir, [...path, name], inner);
    if ("problem" in m) return m;
    fields[name] = optional && m.type.kind !== "optional" && m.type.kind !== "any" ? { kind: "optional", inner: m.type } : m.type;
  }
  return { type: { kind: "record", fields } };
}

function mapUnion(t: TsType, at: Node, dir: Direction, path: Step[], seen: TsType[], absentUndefined: boolean): Mapped {
  const members = t.getUnionTypes();
  const nullable = members.some((m) => m.isNull() || (!absentUndefined && (m.isUndefined() || m.isVoid())));
  const rest = members.filter((m) => !(m.isNull() || m.isUndefined() || m.isVoid()));
  if (rest.length === 0) return { type: { kind: "null" } };
  let inner: Mapped;
  if (rest.every((m) => m.isBoolean() || m.isBooleanLiteral())) inner = { type: { kind: "bool" } };
  else if (rest.every((m) => m.isString() || m.isStringLiteral() || m.isTemplateLiteral())) inner = { type: { kind: "string" } };
  else if (rest.every((m) => m.isNumber() || m.isNumberLiteral())) inner = { type: { kind: "number" } };
  else if (rest.length === 1) inner = mapType(rest[0], at, dir, path, seen);
  else if (rest.some((m) => m.isAny() || m.isUnknown())) inner = { type: { kind: "any" } };
  else if (!rest.every((m) => isObjectLike(m) && m.getCallSignatures().length === 0)) {
    const text = t.getText(at);
    return { problem: `${text} is not a supported union; use one type, a union with null, or unknown`, path, offender: text };
  } else {
    // Several object shapes (a tagged union): no runbook type says that, but each member must
    // still be JSON; the value is then `any`.
    for (const m of rest) {
      const r = mapType(m, at, dir, path, seen);
      if ("problem" in r) return r;
    }
    inner = { type: { kind: "any" } };
  }
  if ("problem" in inner) return inner;
  if (!nullable || inner.type.kind === "any" || inner.type.kind === "null") return inner;
  return { type: { kind: "optional", inner: inner.type } };
}

function unwrapPromise(t: TsType): TsType {
  const name = t.getSymbol()?.getName();
  if ((name === "Promise" || name === "PromiseLike") && t.getTypeArguments().length === 1) return t.getTypeArguments()[0];
  if (t.isUnion()) {
    // `Promise<T> | T` (an activity that is sometimes synchronous): look at T.
    const members = t.getUnionTypes().map(unwrapPromise);
    if (members.every((m) => m.compilerType === members[0].compilerType)) return members[0];
  }
  return t;
}

function isObjectLike(t: TsType): boolean {
  return t.isObject() || t.isIntersection() || (t.getFlags() & ts.TypeFlags.NonPrimitive) !== 0;
}

function isMethod(prop: TsSymbol): boolean {
  return prop.getDeclarations().some((d) => Node.isMethodDeclaration(d) || Node.isMethodSignature(d)) || prop.hasFlags(ts.SymbolFlags.Method);
}

function includesNullish(t: TsType): boolean {
  return t.isUnion() && t.getUnionTypes().some((m) => m.isNull() || m.isUndefined() || m.isVoid());
}

function hasUndefined(t: TsType): boolean {
  return t.isUnion() && t.getUnionTypes().some((m) => m.isUndefined() || m.isVoid());
}

/**
 * `T | undefined` → T (null stays: it is a real JSON value). With several members left the
 * union is returned as it is (ts-morph cannot build a new union); callers then map it with
 * `absentUndefined`, or mapUnion reads the undefined member as null.
 */
function withoutUndefined(t: TsType): TsType {
  if (!t.isUnion()) return t;
  const rest = t.getUnionTypes().filter((m) => !(m.isUndefined() || m.isVoid()));
  return rest.length === 1 ? rest[0] : t;
}

/** `T | null | undefined` → T when T is one member; otherwise the union as it is. */
function withoutNullish(t: TsType): TsType {
  if (!t.isUnion()) return t;
  const rest = t.getUnionTypes().filter((m) => !(m.isNull() || m.isUndefined() || m.isVoid()));
  return rest.length === 1 ? rest[0] : t;
}

/** `{ created: Date }` for path ["created"], offender "Date". */
function shape(path: Step[], offender: string): string {
  let text = offender;
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i];
    if (step === "[]") text = /\||=>/.test(text) ? `(${text})[]` : `${text}[]`;
    else if (step === "{}") text = `Record<string, ${text}>`;
    else if (/^\[\d+\]$/.test(step)) text = `[${step.slice(1, -1) === "0" ? "" : "..., "}${text}, ...]`;
    else text = `{ ${step}: ${text} }`;
  }
  return text;
}
