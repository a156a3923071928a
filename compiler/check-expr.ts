// Expressions of a runbook body: types with inference, literals, names, operators, members and
// indexing, null narrowing, and the state one body's check shares (diagnostics, resolved
// calls, expression types, facts for the call graph). It is the base of a class chain:
// CallChecker (check-call.ts) resolves calls and their arguments, RunbookChecker
// (check-runbook.ts) adds statements and scopes on top.
import type * as ast from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { ActivityModule } from "./activities.js";
import type { BuiltinFunction } from "./builtins.js";
import type { ActivitySignature, CallResolution, Signature } from "./checked.js";
import { M, diag, type Extra, type MessageDef } from "./messages.js";
import { nullFacts } from "./null-facts.js";
import { Scope, closest, didYouMean, type Local } from "./scope.js";
import { emptyBindings, type Bindings } from "./bindings.js";
import { T, binaryType, isAssignable, isNullable, join, mapValueType, nonNull, describeType, unaryType, type Type } from "./types.js";
import { assertNever } from "../runtime/never.js";

export interface UseInfo {
  decl: ast.UseDecl;
  module: ActivityModule;
  used: boolean;
}

export interface ProjectView {
  signatures: ReadonlyMap<string, Signature>;
  uses: ReadonlyMap<string, UseInfo>;
  builtins: ReadonlyMap<string, BuiltinFunction>;
  builtinActivities: ReadonlyMap<string, ActivitySignature>;
}

export interface CallSite {
  callee: string;
  span: ast.Span;
}

export interface BodyFacts {
  /** Contains checkpoint, sleep, suspend, wait, await, or a retry with a delay (a durable sleep). */
  suspendsDirectly: boolean;
  /** Inline calls of project runbooks (not `start`), in source order. */
  inlineCalls: CallSite[];
  /** Inline runbook calls nested inside a larger expression. */
  nestedCalls: CallSite[];
}

/** Where an expression stands, for the suspending-call placement rule. */
export type Place = "alone" | "nested";

export abstract class ExprChecker {
  protected readonly diagnostics: Diagnostic[] = [];
  protected readonly calls = new Map<ast.CallExpr, CallResolution>();
  protected readonly types = new Map<ast.Expr, Type>();
  protected readonly bindings: Bindings = emptyBindings();
  protected readonly facts: BodyFacts = { suspendsDirectly: false, inlineCalls: [], nestedCalls: [] };
  protected scope = new Scope(undefined);
  /** Checking a parameter default: only literals, operators and built-in functions. */
  protected inDefault: { param: string; reported: boolean } | undefined;

  constructor(
    protected readonly decl: ast.RunbookDecl,
    protected readonly signature: Signature,
    protected readonly view: ProjectView,
  ) {}

  protected report<A extends unknown[]>(m: MessageDef<A>, span: ast.Span, args: A, extra?: Extra): void {
    this.diagnostics.push(diag(m, span, args, extra));
  }

  /** Resolves and checks a call (check-call.ts); `started` for the call of a `start`. */
  protected abstract call(e: ast.CallExpr, place: Place, started: boolean): Type;

  /** `parallel for` (check-runbook.ts: its body is checked as a runbook of its own). */
  protected abstract parallel(e: ast.ParallelExpr, place: Place): Type;

  protected expect(type: Type, kinds: Type["kind"][]): boolean {
    return type.kind === "any" || type.kind === "error" || kinds.includes(type.kind);
  }

  /** In a parameter default, calls other than built-in functions and suspensions are refused. */
  protected refuseInDefault(span: ast.Span): boolean {
    if (!this.inDefault) return false;
    if (!this.inDefault.reported) this.report(M.badDefault, span, [this.inDefault.param]);
    this.inDefault.reported = true;
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  /**
   * The type of `e`. `expected` is the type the context wants (literals `[]`, `{}` and `null`
   * take it); the caller still checks assignability. `place` says whether a suspending call may
   * stand here.
   */
  protected expr(e: ast.Expr, expected: Type | undefined, place: Place = "nested"): Type {
    const t = this.exprType(e, expected, place);
    this.types.set(e, t);
    return t;
  }

  protected exprType(e: ast.Expr, expected: Type | undefined, place: Place): Type {
    switch (e.kind) {
      case "Number":
        return T.number;
      case "String":
        return T.string;
      case "Template":
        for (const part of e.parts) if (typeof part !== "string") this.expr(part, undefined);
        return T.string;
      case "Bool":
        return T.bool;
      case "Null":
        return T.null;
      case "Duration":
        return T.duration;
      case "List":
        return this.listLiteral(e, expected);
      case "Map":
        return this.mapLiteral(e, expected);
      case "Name":
        return this.name(e);
      case "Member": {
        if (e.object.kind === "Name" && this.isAlias(e.object.name)) {
          this.report(M.aliasAsValue, e.span, [e.object.name], { hint: `call it: \`${e.object.name}.${e.property.name}(...)\`` });
          this.view.uses.get(e.object.name)!.used = true;
          return T.error;
        }
        return this.member(this.expr(e.object, undefined), e);
      }
      case "Index":
        return this.index(this.expr(e.object, undefined), e);
      case "Call":
        return this.call(e, place, false);
      case "Unary": {
        const t = this.expr(e.operand, undefined);
        const result = unaryType(e.operator, t);
        if (result) return result;
        this.report(M.unaryOperand, e.span, [e.operator, describeType(t)], { hint: isNullable(t) ? "it may be null: give a default with `??`" : undefined });
        return T.error;
      }
      case "Binary":
        return this.binary(e, expected);
      case "Wait": {
        this.suspension(e.span, place, "`wait`", `let signal = wait "${e.signal.value}"`);
        if (e.timeout) {
          const t = this.expr(e.timeout, T.duration);
          if (!this.expect(t, ["duration"])) {
            this.report(M.waitTimeoutNotDuration, e.timeout.span, [describeType(t)], { hint: t.kind === "number" ? "write a duration such as `10m`" : undefined });
          }
        }
        return T.any;
      }
      case "Start": {
        if (this.refuseInDefault(e.span)) return T.error;
        this.types.set(e.call, this.call(e.call, "nested", true));
        return T.string;
      }
      case "Await": {
        this.suspension(e.span, place, "`await`", "let result = await job");
        const t = this.expr(e.job, T.string);
        if (!this.expect(t, ["string"])) this.report(M.awaitNotString, e.job.span, [describeType(t)]);
        return T.any;
      }
      case "Parallel":
        return this.parallel(e, place);
      case "ErrorExpr":
        return T.error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Null narrowing: after `x != null` is known, `x` of type `T?` is seen as `T`

  /** A child scope of the current one where these names, if optional locals, are not null. */
  protected narrowed(names: string[]): Scope {
    const scope = new Scope(this.scope);
    this.narrowHere(scope, names);
    return scope;
  }

  protected narrowHere(scope: Scope, names: string[]): void {
    for (const name of names) {
      const local = scope.lookup(name);
      if (local?.type.kind === "optional") scope.narrow(local, local.type.inner);
    }
  }

  protected inScope<R>(scope: Scope, fn: () => R): R {
    const saved = this.scope;
    this.scope = scope;
    try {
      return fn();
    } finally {
      this.scope = saved;
    }
  }

  /** `wait` and `await` always suspend: they may only stand alone. */
  protected suspension(span: ast.Span, place: Place, what: string, example: string): void {
    if (this.refuseInDefault(span)) return;
    this.facts.suspendsDirectly = true;
    if (place === "nested") this.report(M.suspendingCallNested, span, [what], { hint: `bind it with \`let\` first: \`${example}\`, then use the local` });
  }

  protected isAlias(name: string): boolean {
    return this.view.uses.has(name) && !this.scope.lookup(name);
  }

  protected name(e: ast.NameExpr): Type {
    const local = this.scope.lookup(e.name);
    if (local) {
      local.used = true;
      if (local.origin) local.origin.used = true;
      this.refer(e, local);
      return local.type;
    }
    this.unknownName(e);
    return T.error;
  }

  /** Record that `e` reads or writes `local` (its declaration's binding). */
  protected refer(e: ast.NameExpr, local: Local): void {
    this.bindings.ofRef.set(e, local.binding);
    local.binding.uses.push(e);
  }

  protected unknownName(e: ast.NameExpr): void {
    if (this.view.uses.has(e.name)) {
      this.view.uses.get(e.name)!.used = true;
      this.report(M.aliasAsValue, e.span, [e.name], { hint: `call one of its functions: \`${e.name}.fn(...)\`` });
    } else if (this.view.signatures.has(e.name)) {
      this.report(M.notAValue, e.span, [e.name, "a runbook"], { hint: `call it: \`${e.name}(...)\`` });
    } else if (this.view.builtins.has(e.name) || this.view.builtinActivities.has(e.name)) {
      this.report(M.notAValue, e.span, [e.name, "a built-in function"], { hint: `call it: \`${e.name}(...)\`` });
    } else if (this.inDefault && this.decl.params.some((p) => p.name.name === e.name)) {
      this.report(M.undefinedName, e.span, [e.name], { hint: "a default cannot refer to another parameter" });
    } else {
      this.report(M.undefinedName, e.span, [e.name], { hint: didYouMean(e.name, this.scope.visibleNames()) });
    }
  }

  protected listLiteral(e: ast.ListLiteral, expected: Type | undefined): Type {
    const want = expected && nonNull(expected).kind === "list" ? (nonNull(expected) as { kind: "list"; element: Type }).element : undefined;
    const types = e.elements.map((el) => this.expr(el, want));
    if (want) {
      // Against a known element type, point at the first element that does not fit (once).
      const bad = types.findIndex((t) => !isAssignable(t, want));
      if (bad >= 0) this.report(M.elementMismatch, e.elements[bad]!.span, [describeType(want), describeType(types[bad]!)]);
      return T.list(want);
    }
    if (types.length === 0) return T.list(T.any);
    let acc = types[0]!;
    for (let i = 1; i < types.length; i++) {
      const j = join(acc, types[i]!);
      if (!j) {
        this.report(M.listElements, e.elements[i]!.span, [describeType(acc), describeType(types[i]!)], {
          hint: "declare the list's type if it is meant to mix them, e.g. `let xs: list<any> = [...]`",
        });
        return T.error;
      }
      acc = j;
    }
    return T.list(acc);
  }

  protected mapLiteral(e: ast.MapLiteral, expected: Type | undefined): Type {
    const seen = new Map<string, ast.Span>();
    for (const entry of e.entries) {
      const first = seen.get(entry.key);
      if (first) this.report(M.duplicateKey, entry.keySpan, [entry.key], { related: [{ message: "first given here", span: first }] });
      else seen.set(entry.key, entry.keySpan);
    }
    // Against a known map or record type, each problem is reported where it is, and the
    // literal takes the expected type so the caller does not report it again.
    const want = expected && nonNull(expected);
    if (want?.kind === "map") {
      for (const en of e.entries) {
        const t = this.expr(en.value, want.value);
        if (!isAssignable(t, want.value)) this.report(M.fieldMismatch, en.value.span, [en.key, describeType(want.value), describeType(t)]);
      }
      return want;
    }
    if (want?.kind === "record") {
      for (const en of e.entries) {
        const fieldType = want.fields[en.key];
        const t = this.expr(en.value, fieldType);
        if (fieldType === undefined) {
          const near = closest(en.key, Object.keys(want.fields).filter((f) => !seen.has(f)));
          this.report(M.extraField, en.keySpan, [en.key, describeType(want)], { hint: near && `did you mean \`${near}\`?` });
        } else if (!isAssignable(t, fieldType)) {
          this.report(M.fieldMismatch, en.value.span, [en.key, describeType(fieldType), describeType(t)]);
        }
      }
      // A misspelled field is one mistake: it is not also reported missing.
      const meant = new Set(e.entries.filter((en) => !(en.key in want.fields)).map((en) => closest(en.key, Object.keys(want.fields))));
      const missing = Object.entries(want.fields)
        .filter(([name, t]) => !seen.has(name) && !isAssignable(T.null, t) && !meant.has(name))
        .map(([name]) => name);
      if (missing.length) this.report(M.missingFields, e.span, [missing, describeType(want)]);
      return want;
    }
    if (e.entries.length === 0) return T.map(T.any);
    return T.record(Object.fromEntries(e.entries.map((en) => [en.key, this.expr(en.value, undefined)])));
  }

  /** `object.name` / `object?.name` on a value of type `object`. */
  protected member(object: Type, e: ast.MemberExpr): Type {
    const name = e.property.name;
    const base = nonNull(object);
    let t: Type;
    switch (base.kind) {
      case "error":
      case "any":
        return base;
      case "record": {
        const field = base.fields[name];
        if (field === undefined) {
          const subject = e.object.kind === "Name" ? e.object.name : undefined;
          this.report(M.noMember, e.property.span, [describeType(base), name, subject], { hint: didYouMean(name, Object.keys(base.fields)) });
          return T.error;
        }
        t = field;
        break;
      }
      case "map":
        t = e.optional ? T.optional(base.value) : base.value;
        break;
      default: {
        const builtin = this.view.builtins.has(name) ? `use \`${name}(...)\` with the value as its argument` : name === "length" ? "use `len(...)`" : undefined;
        this.report(M.noMember, e.property.span, [describeType(base), name], { hint: builtin });
        return T.error;
      }
    }
    return e.optional && object.kind === "optional" ? T.optional(t) : t;
  }

  /** `object[index]` on a value of type `object`. */
  protected index(object: Type, e: ast.IndexExpr): Type {
    const base = nonNull(object);
    const want = base.kind === "list" ? T.number : base.kind === "map" || base.kind === "record" ? T.string : undefined;
    const i = this.expr(e.index, want);
    switch (base.kind) {
      case "error":
      case "any":
        return base;
      case "list":
        this.indexOk("list", i, e);
        return base.element;
      case "map":
        this.indexOk("map", i, e);
        return base.value;
      case "record": {
        this.indexOk("map", i, e);
        if (e.index.kind !== "String") return mapValueType(base);
        const field = base.fields[e.index.value];
        if (field !== undefined) return field;
        this.report(M.noMember, e.index.span, [describeType(base), e.index.value], { hint: didYouMean(e.index.value, Object.keys(base.fields)) });
        return T.error;
      }
      default:
        this.report(M.notIndexable, e.object.span, [describeType(base)]);
        return T.error;
    }
  }

  private indexOk(kind: "list" | "map", i: Type, e: ast.IndexExpr): void {
    const w = kind === "list" ? T.number : T.string;
    if (!this.expect(i, [w.kind])) this.report(M.indexType, e.index.span, [kind, describeType(w), describeType(i)]);
  }

  protected binary(e: ast.BinaryExpr, expected: Type | undefined): Type {
    if (e.operator === "??") {
      const l = this.expr(e.left, expected && T.optional(expected));
      const r = this.expr(e.right, expected ?? nonNull(l));
      if (!isNullable(l)) this.report(M.nullishNeverNull, e.left.span, [describeType(l)], { hint: "remove `?? ...`" });
      if (l.kind === "error" || r.kind === "error") return T.error;
      if (l.kind === "any") return r.kind === "null" ? T.any : r;
      const result = join(nonNull(l), r);
      if (result) return l.kind === "null" ? r : result;
      this.report(M.binaryOperands, e.span, ["??", describeType(l), describeType(r)]);
      return T.error;
    }
    const l = this.expr(e.left, undefined);
    // `x != null and x > 1`, `x == null or x > 1`: the right side runs only when x is not null.
    const facts = e.operator === "and" ? nullFacts(e.left).whenTrue : e.operator === "or" ? nullFacts(e.left).whenFalse : [];
    const r = this.inScope(this.narrowed(facts), () => this.expr(e.right, undefined));
    if (l.kind === "error" || r.kind === "error") return e.operator === "and" || e.operator === "or" || isComparison(e.operator) ? T.bool : T.error;
    if (e.operator === "==" || e.operator === "!=") {
      if (!mayBeEqual(l, r)) this.report(M.neverEqual, e.span, [describeType(l), describeType(r)]);
      return T.bool;
    }
    const result = binaryType(e.operator, l, r);
    if (result) return result;
    this.report(M.binaryOperands, e.span, [e.operator, describeType(l), describeType(r)], {
      hint:
        l.kind === "optional" || r.kind === "optional"
          ? "a side may be null: give it a default with `??`"
          : e.operator === "+" && (l.kind === "string" || r.kind === "string")
            ? "interpolate instead: `\"${a}${b}\"`"
            : undefined,
    });
    return T.error;
  }
}

function isComparison(op: ast.BinaryOperator): boolean {
  return op === "==" || op === "!=" || op === "<" || op === "<=" || op === ">" || op === ">=";
}

/** Can values of these two types ever be equal? (`==` between them is otherwise an error.) */
function mayBeEqual(a: Type, b: Type): boolean {
  if (a.kind === "null") return isNullable(b);
  if (b.kind === "null") return isNullable(a);
  return isAssignable(nonNull(a), nonNull(b)) || isAssignable(nonNull(b), nonNull(a)) || join(nonNull(a), nonNull(b)) !== undefined && bothContainers(a, b);
}

function bothContainers(a: Type, b: Type): boolean {
  const k = (t: Type) => nonNull(t).kind;
  return (k(a) === "map" || k(a) === "record") && (k(b) === "map" || k(b) === "record");
}

/** `x`, `x.f`, `x[…]`: how an assignment target reads in a message. */
export function describeTarget(e: ast.Expr): string {
  switch (e.kind) {
    case "Name":
      return e.name;
    case "Member":
      return `${describeTarget(e.object)}${e.optional ? "?." : "."}${e.property.name}`;
    case "Index":
      return `${describeTarget(e.object)}[${e.index.kind === "String" ? JSON.stringify(e.index.value) : e.index.kind === "Number" ? e.index.value : e.index.kind === "Name" ? e.index.name : "…"}]`;
    case "Call":
      return `${describeTarget(e.callee)}(…)`;
    case "Number":
    case "String":
    case "Template":
    case "Bool":
    case "Null":
    case "Duration":
    case "List":
    case "Map":
    case "Unary":
    case "Binary":
    case "Wait":
    case "Start":
    case "Await":
    case "Parallel":
    case "ErrorExpr":
      return "…";
    default:
      return assertNever(e, "expression");
  }
}

