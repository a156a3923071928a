// Checks one runbook's body: scopes, statement and expression types, calls, reachability and
// unused locals. It records what the project-level pass (checker.ts) needs: inline-call edges,
// whether the body suspends by itself, and inline calls standing where a suspending call may
// not (an error only if the callee turns out to suspend, which needs the whole call graph).
import type * as ast from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { ActivityModule } from "./activities.js";
import type { BuiltinFunction } from "./builtins.js";
import type { ActivitySignature, CallResolution, Signature } from "./checked.js";
import { M, diag, type Extra, type MessageDef } from "./messages.js";
import { Scope, closest, didYouMean, type Local, type LocalKind } from "./scope.js";
import {
  ERROR_RECORD,
  binaryType,
  unaryType,
  NAMED_TYPES,
  T,
  isAssignable,
  isNullable,
  join,
  mapValueType,
  nonNull,
  typeFromNode,
  typeToString,
  type Type,
} from "./types.js";

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

export interface BodyOptions {
  /**
   * The file had no syntax errors. Otherwise the parser may have dropped statements, so the
   * findings that a missing statement could fake (unused locals, unreachable code, a missing
   * `return`) are not reported.
   */
  parsedCleanly: boolean;
}

export interface BodyResult {
  diagnostics: Diagnostic[];
  facts: BodyFacts;
  calls: Map<ast.CallExpr, CallResolution>;
  types: Map<ast.Expr, Type>;
}

export function checkRunbookBody(decl: ast.RunbookDecl, signature: Signature, view: ProjectView, opts: BodyOptions): BodyResult {
  return new RunbookChecker(decl, signature, view, opts).run();
}

/** A hint for an unknown type name: the near named type, or what other languages call it. */
export function unknownTypeHint(name: string): string | undefined {
  const aliases: Record<string, string> = { int: "number", integer: "number", float: "number", boolean: "bool", str: "string", array: "list<T>", object: "map<T>", dict: "map<T>", null: "T?" };
  if (aliases[name]) return `use \`${aliases[name]}\``;
  return didYouMean(name, [...Object.keys(NAMED_TYPES), "list", "map"]);
}

/** A parameter as the argument matcher sees it (runbook parameters and activity properties). */
interface ParamSlot {
  name: string;
  type: Type;
  required: boolean;
}

/** Where an expression stands, for the suspending-call placement rule. */
type Place = "alone" | "nested";

interface Loop {
  broken: boolean;
}

class RunbookChecker {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly calls = new Map<ast.CallExpr, CallResolution>();
  private readonly types = new Map<ast.Expr, Type>();
  private readonly facts: BodyFacts = { suspendsDirectly: false, inlineCalls: [], nestedCalls: [] };
  private readonly loops: Loop[] = [];
  private scope = new Scope(undefined);
  /** Checking a parameter default: only literals, operators and built-in functions. */
  private inDefault: { param: string; reported: boolean } | undefined;

  constructor(
    private readonly decl: ast.RunbookDecl,
    private readonly signature: Signature,
    private readonly view: ProjectView,
    private readonly opts: BodyOptions,
  ) {}

  run(): BodyResult {
    this.checkDefaults();
    const top = new Scope(undefined);
    this.decl.params.forEach((p, i) => this.declare(top, p.name, "param", this.signature.params[i]?.type ?? T.error));
    const completes = this.block(this.decl.body, top);
    const returns = this.signature.returns;
    if (completes && this.decl.returnType && !isAssignable(T.null, returns) && this.opts.parsedCleanly) {
      // At the closing brace: that is where the runbook falls off its end.
      const end = this.decl.body.span.end;
      const start = { line: end.line, column: Math.max(1, end.column - 1), offset: Math.max(0, end.offset - 1) };
      this.report(M.missingReturn, { file: this.decl.body.span.file, start, end }, [this.signature.name, typeToString(returns)], {
        hint: `end every path with \`return\`, or declare the result optional: \`-> ${typeToString(returns)}?\``,
      });
    }
    return { diagnostics: this.diagnostics, facts: this.facts, calls: this.calls, types: this.types };
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private report<A extends unknown[]>(m: MessageDef<A>, span: ast.Span, args: A, extra?: Extra): void {
    this.diagnostics.push(diag(m, span, args, extra));
  }

  private declare(scope: Scope, id: ast.Identifier, kind: LocalKind, type: Type): Local {
    const { local, previous } = scope.declare(id, kind, type);
    if (previous) {
      this.report(M.redeclared, id.span, [id.name], {
        related: [{ message: `\`${id.name}\` is first declared here`, span: previous.span }],
        hint: "shadowing is allowed only in an inner block; use another name or assign with `=`",
      });
    } else if (this.view.uses.has(id.name)) {
      this.report(M.redeclared, id.span, [id.name], {
        related: [{ message: `\`${id.name}\` is the alias of this \`use\` module`, span: this.view.uses.get(id.name)!.decl.alias.span }],
      });
    }
    return local;
  }

  /** Report the locals of a scope nobody read (parameters and `_names` are exempt). */
  private closeScope(scope: Scope): void {
    if (!this.opts.parsedCleanly) return;
    for (const l of scope.own()) {
      if (l.used || l.kind === "param" || l.name.startsWith("_")) continue;
      const hint = l.kind === "let" ? `remove it, or name it \`_${l.name}\` to keep it unused` : `name it \`_${l.name}\` if it is not needed`;
      this.report(M.unusedLocal, l.span, [l.name], { hint });
    }
  }

  private expect(type: Type, kinds: Type["kind"][]): boolean {
    return type.kind === "any" || type.kind === "error" || kinds.includes(type.kind);
  }

  // -------------------------------------------------------------------------------------------
  // Statements: each returns whether it can complete normally (for reachability)

  private block(block: ast.Block, scope = new Scope(this.scope)): boolean {
    const saved = this.scope;
    this.scope = scope;
    let reachable = true;
    let ender: ast.Stmt | undefined;
    for (const s of block.statements) {
      if (!reachable && ender && this.opts.parsedCleanly) {
        this.report(M.unreachable, s.span, [], { hint: whyUnreachable(ender) });
        ender = undefined;
      }
      const completes = this.statement(s);
      if (reachable && !completes) ender = s;
      reachable = reachable && completes;
    }
    this.closeScope(scope);
    this.scope = saved;
    return reachable;
  }

  private statement(s: ast.Stmt): boolean {
    switch (s.kind) {
      case "Let": {
        const declared = s.type ? this.annotation(s.type) : undefined;
        const t = this.expr(s.value, declared, "alone");
        if (declared && !isAssignable(t, declared)) {
          this.report(M.letMismatch, s.value.span, [s.name.name, typeToString(t), typeToString(declared)]);
        }
        this.declare(this.scope, s.name, "let", declared ?? t);
        return true;
      }
      case "Assign":
        this.assign(s);
        return true;
      case "If": {
        this.condition(s.condition, "if");
        const a = this.block(s.then);
        const b = s.otherwise === undefined ? true : s.otherwise.kind === "If" ? this.statement(s.otherwise) : this.block(s.otherwise);
        return a || b;
      }
      case "While": {
        this.condition(s.condition, "while");
        const loop = this.loop(() => this.block(s.body));
        const forever = s.condition.kind === "Bool" && s.condition.value;
        return !forever || loop.broken;
      }
      case "For":
        this.forLoop(s);
        return true;
      case "Break":
      case "Continue": {
        const loop = this.loops[this.loops.length - 1];
        if (!loop) this.report(s.kind === "Break" ? M.breakOutsideLoop : M.continueOutsideLoop, s.span, []);
        else if (s.kind === "Break") loop.broken = true;
        return false;
      }
      case "Return":
        this.returnStmt(s);
        return false;
      case "Checkpoint":
        this.facts.suspendsDirectly = true;
        return true;
      case "Sleep": {
        this.facts.suspendsDirectly = true;
        const t = this.expr(s.duration, T.duration);
        if (!this.expect(t, ["duration"])) {
          this.report(M.sleepNotDuration, s.duration.span, [typeToString(t)], { hint: t.kind === "number" ? "write a duration such as `30s` or `5m`" : undefined });
        }
        return true;
      }
      case "Suspend":
        this.facts.suspendsDirectly = true;
        if (s.reason) this.stringOperand(s.reason, "the reason of `suspend`");
        return true;
      case "Stream":
        this.expr(s.value, undefined);
        return true;
      case "Fail":
        this.stringOperand(s.message, "the message of `fail`");
        return false;
      case "Try":
        return this.tryStmt(s);
      case "Retry":
        return this.retryStmt(s);
      case "ExprStmt": {
        const e = s.expression;
        if (e.kind !== "Call" && e.kind !== "Wait" && e.kind !== "Await" && e.kind !== "Start" && e.kind !== "ErrorExpr") {
          this.report(M.exprStatement, e.span, []);
        }
        this.expr(e, undefined, "alone");
        return true;
      }
    }
  }

  private loop(body: () => void): Loop {
    const loop: Loop = { broken: false };
    this.loops.push(loop);
    body();
    this.loops.pop();
    return loop;
  }

  private annotation(node: ast.TypeNode): Type {
    return typeFromNode(node, (name, n) => this.report(M.unknownType, n.span, [name], { hint: unknownTypeHint(name) }));
  }

  private condition(e: ast.Expr, stmt: string): void {
    const t = this.expr(e, T.bool);
    if (!this.expect(t, ["bool"])) {
      this.report(M.conditionNotBool, e.span, [stmt, typeToString(t)], {
        hint: isNullable(t) ? "compare it explicitly, e.g. `x != null`" : t.kind === "number" ? "compare it explicitly, e.g. `n > 0`" : undefined,
      });
    }
  }

  private stringOperand(e: ast.Expr, what: string): void {
    const t = this.expr(e, T.string);
    if (!this.expect(t, ["string"])) {
      this.report(M.notString, e.span, [what, typeToString(t)], {
        hint: t.kind === "record" && "message" in t.fields ? "pass its text: `err.message`" : "convert it with `str(...)` or interpolate it: `\"${x}\"`",
      });
    }
  }

  private assign(s: ast.AssignStmt): void {
    const target = this.target(s.target);
    if (target === undefined) {
      this.expr(s.value, undefined, "alone");
      return;
    }
    const name = describeTarget(s.target);
    if (s.operator === "=") {
      const t = this.expr(s.value, target, "alone");
      if (!isAssignable(t, target)) {
        this.report(M.assignMismatch, s.value.span, [name, typeToString(t), typeToString(target)], {
          hint: target.kind === "null" ? `declare its type where it is declared, e.g. \`let ${name}: ${typeToString(T.optional(t))} = null\`` : undefined,
        });
      }
      return;
    }
    const t = this.expr(s.value, target, "alone");
    const op = s.operator === "+=" ? "+" : "-";
    const result = binaryType(op, target, t);
    if (result === undefined) {
      this.report(M.binaryOperands, s.span, [s.operator, typeToString(target), typeToString(t)]);
    } else if (!isAssignable(result, target)) {
      this.report(M.assignMismatch, s.value.span, [name, typeToString(result), typeToString(target)]);
    }
  }

  /** The type of an assignment target, or undefined when it is not assignable (reported). */
  private target(t: ast.NameExpr | ast.MemberExpr | ast.IndexExpr | ast.Expr): Type | undefined {
    switch (t.kind) {
      case "Name": {
        const local = this.scope.lookup(t.name);
        if (local) {
          this.types.set(t, local.type);
          return local.type;
        }
        this.unknownName(t);
        return undefined;
      }
      case "Member": {
        if (t.optional) {
          this.report(M.invalidAssignTarget, t.span, ["`?.` cannot be assigned through"], { hint: "use `.`" });
          return undefined;
        }
        const object = this.target(t.object);
        if (object === undefined) return undefined;
        const type = this.member(object, t);
        this.types.set(t, type);
        return type;
      }
      case "Index": {
        const object = this.target(t.object);
        if (object === undefined) {
          this.expr(t.index, undefined);
          return undefined;
        }
        const type = this.index(object, t);
        this.types.set(t, type);
        return type;
      }
      case "ErrorExpr":
        return undefined;
      default:
        this.report(M.invalidAssignTarget, t.span, ["only a local, or a field or element of one, can be assigned"]);
        return undefined;
    }
  }

  private forLoop(s: ast.ForStmt): void {
    const t = this.expr(s.iterable, undefined);
    let types: [Type, Type];
    const iterable = t.kind === "optional" ? T.error : t;
    if (t.kind === "optional") {
      this.report(M.notIterable, s.iterable.span, [typeToString(t)], { hint: "it may be null: give a default with `?? []`" });
    }
    switch (iterable.kind) {
      case "list":
        types = s.names.length === 1 ? [iterable.element, T.error] : [T.number, iterable.element];
        break;
      case "map":
      case "record":
        types = [T.string, mapValueType(iterable)];
        break;
      case "any":
      case "error":
        types = [iterable, iterable];
        break;
      default:
        this.report(M.notIterable, s.iterable.span, [typeToString(iterable)], {
          hint: iterable.kind === "string" ? "split it first, e.g. `split(s, \"\\n\")`" : iterable.kind === "number" ? "use a range: `1..n` or `range(n)`" : undefined,
        });
        types = [T.error, T.error];
    }
    const scope = new Scope(this.scope);
    s.names.forEach((id, i) => this.declare(scope, id, "for", types[i]!));
    this.loop(() => this.block(s.body, scope));
  }

  private returnStmt(s: ast.ReturnStmt): void {
    const want = this.signature.returns;
    const name = this.signature.name;
    if (!s.value) {
      if (this.decl.returnType && !isAssignable(T.null, want)) this.report(M.returnWithoutValue, s.span, [name, typeToString(want)]);
      return;
    }
    const t = this.expr(s.value, this.decl.returnType ? want : undefined, "alone");
    if (!this.decl.returnType) {
      if (t.kind !== "null" && t.kind !== "error") {
        this.report(M.returnWithoutResultType, s.value.span, [name], { hint: `declare it in the header: \`-> ${typeToString(t)}\`` });
      }
      return;
    }
    if (!isAssignable(t, want)) this.report(M.returnMismatch, s.value.span, [name, typeToString(t), typeToString(want)]);
  }

  private tryStmt(s: ast.TryStmt): boolean {
    const body = this.block(s.block);
    let handled = false;
    if (s.handler) {
      const scope = new Scope(this.scope);
      this.declare(scope, s.handler.param, "catch", ERROR_RECORD);
      handled = this.block(s.handler.body, scope);
    }
    const finalizer = s.finalizer ? this.block(s.finalizer) : true;
    return (body || handled) && finalizer;
  }

  private retryStmt(s: ast.RetryStmt): boolean {
    // The wait between attempts is a durable sleep: a suspension point unless there is none
    // (no delay, or a literal zero), as the back end lowers it.
    const d = s.delay;
    if (d && !((d.kind === "Duration" && d.milliseconds <= 0) || (d.kind === "Number" && d.value <= 0))) this.facts.suspendsDirectly = true;
    const option = (e: ast.Expr | undefined, name: string, want: Type) => {
      if (!e) return;
      const t = this.expr(e, want);
      if (!this.expect(t, [want.kind])) this.report(M.retryOption, e.span, [name, typeToString(want), typeToString(t)]);
    };
    option(s.attempts, "attempts", T.number);
    option(s.delay, "delay", T.duration);
    option(s.backoff, "backoff", T.number);
    return this.block(s.body);
  }

  private checkDefaults(): void {
    this.decl.params.forEach((p, i) => {
      if (!p.default) return;
      const want = this.signature.params[i]?.type ?? T.error;
      this.inDefault = { param: p.name.name, reported: false };
      const saved = this.scope;
      this.scope = new Scope(undefined);
      const t = this.expr(p.default, want);
      this.scope = saved;
      this.inDefault = undefined;
      if (!isAssignable(t, want)) this.report(M.defaultMismatch, p.default.span, [p.name.name, typeToString(t), typeToString(want)]);
    });
  }

  /** In a parameter default, calls other than built-in functions and suspensions are refused. */
  private refuseInDefault(span: ast.Span): boolean {
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
  private expr(e: ast.Expr, expected: Type | undefined, place: Place = "nested"): Type {
    const t = this.exprType(e, expected, place);
    this.types.set(e, t);
    return t;
  }

  private exprType(e: ast.Expr, expected: Type | undefined, place: Place): Type {
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
        this.report(M.unaryOperand, e.span, [e.operator, typeToString(t)], { hint: isNullable(t) ? "it may be null: give a default with `??`" : undefined });
        return T.error;
      }
      case "Binary":
        return this.binary(e, expected);
      case "Wait": {
        this.suspension(e.span, place, "`wait`", `let signal = wait "${e.signal.value}"`);
        if (e.timeout) {
          const t = this.expr(e.timeout, T.duration);
          if (!this.expect(t, ["duration"])) {
            this.report(M.waitTimeoutNotDuration, e.timeout.span, [typeToString(t)], { hint: t.kind === "number" ? "write a duration such as `10m`" : undefined });
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
        if (!this.expect(t, ["string"])) this.report(M.awaitNotString, e.job.span, [typeToString(t)]);
        return T.any;
      }
      case "ErrorExpr":
        return T.error;
    }
  }

  /** `wait` and `await` always suspend: they may only stand alone. */
  private suspension(span: ast.Span, place: Place, what: string, example: string): void {
    if (this.refuseInDefault(span)) return;
    this.facts.suspendsDirectly = true;
    if (place === "nested") this.report(M.suspendingCallNested, span, [what], { hint: `bind it with \`let\` first: \`${example}\`, then use the local` });
  }

  private isAlias(name: string): boolean {
    return this.view.uses.has(name) && !this.scope.lookup(name);
  }

  private name(e: ast.NameExpr): Type {
    const local = this.scope.lookup(e.name);
    if (local) {
      local.used = true;
      return local.type;
    }
    this.unknownName(e);
    return T.error;
  }

  private unknownName(e: ast.NameExpr): void {
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

  private listLiteral(e: ast.ListLiteral, expected: Type | undefined): Type {
    const want = expected && nonNull(expected).kind === "list" ? (nonNull(expected) as { kind: "list"; element: Type }).element : undefined;
    const types = e.elements.map((el) => this.expr(el, want));
    if (want && types.every((t) => isAssignable(t, want))) return T.list(want);
    if (types.length === 0) return T.list(T.any);
    let acc = types[0]!;
    for (let i = 1; i < types.length; i++) {
      const j = join(acc, types[i]!);
      if (!j) {
        this.report(M.listElements, e.elements[i]!.span, [typeToString(acc), typeToString(types[i]!)], {
          hint: "declare the list's type if it is meant to mix them, e.g. `let xs: list<any> = [...]`",
        });
        return T.error;
      }
      acc = j;
    }
    return T.list(acc);
  }

  private mapLiteral(e: ast.MapLiteral, expected: Type | undefined): Type {
    const seen = new Map<string, ast.Span>();
    for (const entry of e.entries) {
      const first = seen.get(entry.key);
      if (first) this.report(M.duplicateKey, entry.keySpan, [entry.key], { related: [{ message: "first given here", span: first }] });
      else seen.set(entry.key, entry.keySpan);
    }
    const want = expected && nonNull(expected);
    if (want?.kind === "map") {
      const types = e.entries.map((en) => this.expr(en.value, want.value));
      if (types.every((t) => isAssignable(t, want.value))) return want;
      return T.record(Object.fromEntries(e.entries.map((en, i) => [en.key, types[i]!])));
    }
    if (want?.kind === "record") {
      let extra = false;
      const fields: Record<string, Type> = {};
      for (const en of e.entries) {
        const fieldType = want.fields[en.key];
        if (fieldType === undefined) {
          extra = true;
          this.report(M.extraField, en.keySpan, [en.key, typeToString(want)], { hint: didYouMean(en.key, Object.keys(want.fields)) });
        }
        fields[en.key] = this.expr(en.value, fieldType);
      }
      // Reported already: give the expected type so the caller does not report it again.
      return extra ? want : T.record(fields);
    }
    if (e.entries.length === 0) return T.map(T.any);
    return T.record(Object.fromEntries(e.entries.map((en) => [en.key, this.expr(en.value, undefined)])));
  }

  /** `object.name` / `object?.name` on a value of type `object`. */
  private member(object: Type, e: ast.MemberExpr): Type {
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
          this.report(M.noMember, e.property.span, [typeToString(base), name], { hint: didYouMean(name, Object.keys(base.fields)) });
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
        this.report(M.noMember, e.property.span, [typeToString(base), name], { hint: builtin });
        return T.error;
      }
    }
    return e.optional && object.kind === "optional" ? T.optional(t) : t;
  }

  /** `object[index]` on a value of type `object`. */
  private index(object: Type, e: ast.IndexExpr): Type {
    const base = nonNull(object);
    const want = base.kind === "list" ? T.number : base.kind === "map" || base.kind === "record" ? T.string : undefined;
    const i = this.expr(e.index, want);
    const indexOk = (kind: "list" | "map") => {
      const w = kind === "list" ? T.number : T.string;
      if (!this.expect(i, [w.kind])) this.report(M.indexType, e.index.span, [kind, typeToString(w), typeToString(i)]);
    };
    switch (base.kind) {
      case "error":
      case "any":
        return base;
      case "list":
        indexOk("list");
        return base.element;
      case "map":
        indexOk("map");
        return base.value;
      case "record": {
        indexOk("map");
        if (e.index.kind !== "String") return mapValueType(base);
        const field = base.fields[e.index.value];
        if (field !== undefined) return field;
        this.report(M.noMember, e.index.span, [typeToString(base), e.index.value], { hint: didYouMean(e.index.value, Object.keys(base.fields)) });
        return T.error;
      }
      default:
        this.report(M.notIndexable, e.object.span, [typeToString(base)]);
        return T.error;
    }
  }

  private binary(e: ast.BinaryExpr, expected: Type | undefined): Type {
    if (e.operator === "??") {
      const l = this.expr(e.left, expected && T.optional(expected));
      const r = this.expr(e.right, expected ?? nonNull(l));
      if (!isNullable(l)) this.report(M.nullishNeverNull, e.left.span, [typeToString(l)], { hint: "remove `?? ...`" });
      if (l.kind === "error" || r.kind === "error") return T.error;
      if (l.kind === "any") return r.kind === "null" ? T.any : r;
      const result = join(nonNull(l), r);
      if (result) return l.kind === "null" ? r : result;
      this.report(M.binaryOperands, e.span, ["??", typeToString(l), typeToString(r)]);
      return T.error;
    }
    const l = this.expr(e.left, undefined);
    const r = this.expr(e.right, undefined);
    if (l.kind === "error" || r.kind === "error") return e.operator === "and" || e.operator === "or" || isComparison(e.operator) ? T.bool : T.error;
    if (e.operator === "==" || e.operator === "!=") {
      if (!mayBeEqual(l, r)) this.report(M.neverEqual, e.span, [typeToString(l), typeToString(r)]);
      return T.bool;
    }
    const result = binaryType(e.operator, l, r);
    if (result) return result;
    this.report(M.binaryOperands, e.span, [e.operator, typeToString(l), typeToString(r)], {
      hint:
        l.kind === "optional" || r.kind === "optional"
          ? "a side may be null: give it a default with `??`"
          : e.operator === "+" && (l.kind === "string" || r.kind === "string")
            ? "interpolate instead: `\"${a}${b}\"`"
            : undefined,
    });
    return T.error;
  }

  // -------------------------------------------------------------------------------------------
  // Calls

  private call(e: ast.CallExpr, place: Place, started: boolean): Type {
    const callee = e.callee;
    if (callee.kind === "Member") return this.activityCall(e, callee, started);
    const name = callee.name;
    const signature = this.view.signatures.get(name);
    if (signature) {
      if (this.refuseInDefault(e.span)) return this.argsOnly(e, T.error);
      const params = signature.params.map((p) => ({ name: p.name, type: p.type, required: !p.hasDefault }));
      const args = this.matchArgs(name, params, e);
      this.calls.set(e, { kind: "runbook", callee: name, canSuspend: false, paramNames: params.map((p) => p.name), args });
      if (!started) {
        this.facts.inlineCalls.push({ callee: name, span: e.span });
        if (place === "nested") this.facts.nestedCalls.push({ callee: name, span: e.span });
      }
      return signature.returns;
    }
    if (started) {
      this.report(M.startNotRunbook, callee.span, [name], { hint: didYouMean(name, this.view.signatures.keys()) });
      return this.argsOnly(e, T.error);
    }
    const builtin = this.view.builtins.get(name);
    if (builtin) return this.builtinCall(e, builtin);
    const activity = this.view.builtinActivities.get(name);
    if (activity) {
      if (this.refuseInDefault(e.span)) return this.argsOnly(e, T.error);
      return this.activityArgs(e, activity, "");
    }
    if (this.scope.lookup(name)) {
      this.scope.lookup(name)!.used = true;
      this.report(M.notCallable, callee.span, [name]);
    } else if (this.view.uses.has(name)) {
      this.view.uses.get(name)!.used = true;
      this.report(M.aliasAsValue, callee.span, [name], { hint: `call one of its functions: \`${name}.fn(...)\`` });
    } else {
      const candidates = [...this.view.signatures.keys(), ...this.view.builtins.keys(), ...this.view.builtinActivities.keys()];
      this.report(M.unknownCallee, callee.span, [name], { hint: didYouMean(name, candidates) });
    }
    return this.argsOnly(e, T.error);
  }

  /** Check the argument expressions of a call that could not be resolved. */
  private argsOnly(e: ast.CallExpr, result: Type): Type {
    for (const a of e.args) this.expr(a.value, undefined);
    return result;
  }

  private activityCall(e: ast.CallExpr, callee: ast.MemberExpr, started: boolean): Type {
    const object = callee.object;
    if (object.kind !== "Name" || !this.isAlias(object.name)) {
      const t = this.expr(object, undefined);
      const fn = callee.property.name;
      this.report(M.memberCallNotAlias, callee.span, [], {
        hint: this.view.builtins.has(fn) ? `built-in functions take the value as an argument: \`${fn}(...)\`` : t.kind !== "error" ? `\`${describeTarget(object)}\` is a value of type ${typeToString(t)}` : undefined,
      });
      return this.argsOnly(e, T.error);
    }
    const use = this.view.uses.get(object.name)!;
    use.used = true;
    if (started) {
      this.report(M.startNotRunbook, callee.span, [`${object.name}.${callee.property.name}`]);
      return this.argsOnly(e, T.error);
    }
    if (this.refuseInDefault(e.span)) return this.argsOnly(e, T.error);
    if (use.module.error !== undefined) return this.argsOnly(e, T.error); // reported at the `use`
    const fn = use.module.functions.get(callee.property.name);
    if (!fn) {
      this.report(M.unknownActivity, callee.property.span, [object.name, callee.property.name], {
        hint: didYouMean(callee.property.name, use.module.functions.keys()),
        related: [{ message: `\`${object.name}\` is ${use.decl.path}`, span: use.decl.span }],
      });
      return this.argsOnly(e, T.error);
    }
    const problem = fn.unserializable ?? fn.unsupportedParam;
    if (problem !== undefined) {
      this.report(fn.unserializable !== undefined ? M.unserializable : M.unsupportedParam, e.span, [problem], {
        related: [{ message: `\`${object.name}.${fn.name}\` is declared here`, span: fn.declaration }],
      });
      this.activityArgs(e, fn, object.name);
      return T.error;
    }
    return this.activityArgs(e, fn, object.name);
  }

  private activityArgs(e: ast.CallExpr, fn: ActivitySignature, module: string): Type {
    const params = fn.params.map((p) => ({ name: p.name, type: p.optional ? T.optional(p.type) : p.type, required: !p.optional }));
    const name = module ? `${module}.${fn.name}` : fn.name;
    const args = this.matchArgs(name, params, e);
    this.calls.set(e, { kind: "activity", module, fn: fn.name, paramNames: params.map((p) => p.name), args });
    return fn.returns;
  }

  private builtinCall(e: ast.CallExpr, fn: BuiltinFunction): Type {
    const named = e.args.find((a) => a.name);
    if (named) this.report(M.namedArgToBuiltin, named.name!.span, [fn.name]);
    const types = e.args.map((a) => this.expr(a.value, undefined));
    this.calls.set(e, { kind: "builtin", fn: fn.name, args: e.args.map((a) => a.value) });
    if (types.length < fn.arity.min || types.length > fn.arity.max) {
      const span = types.length > fn.arity.max ? e.args[fn.arity.max]!.span : e.callee.span;
      this.report(M.builtinArity, span, [fn.name, fn.arity.text, types.length]);
      return T.error;
    }
    let bad = false;
    const result = fn.check(types, {
      mismatch: (i, want) => {
        if (types[i]?.kind === "error") return;
        bad = true;
        this.report(M.builtinArgType, e.args[i]!.value.span, [fn.name, i + 1, want, typeToString(types[i]!)]);
      },
    });
    return bad ? T.error : result;
  }

  /**
   * Match a call's arguments to parameters: positional ones in order, then named ones by name.
   * Returns the argument expression for each parameter (undefined where left out).
   */
  private matchArgs(callee: string, params: ParamSlot[], e: ast.CallExpr): (ast.Expr | undefined)[] {
    const out: (ast.Expr | undefined)[] = params.map(() => undefined);
    const given = params.map(() => false);
    let tooMany = false;
    const meant = new Set<string>();
    for (const [i, a] of e.args.entries()) {
      let slot: number;
      if (!a.name) {
        slot = i;
        if (slot >= params.length) {
          if (!tooMany) this.report(M.tooManyArgs, a.span, [callee, params.length, e.args.filter((x) => !x.name).length]);
          tooMany = true;
          this.expr(a.value, undefined);
          continue;
        }
      } else {
        slot = params.findIndex((p) => p.name === a.name!.name);
        if (slot < 0) {
          const near = closest(a.name.name, params.filter((_, j) => !given[j]).map((p) => p.name));
          // A misspelled name of a missing parameter is one mistake: do not also report it missing.
          if (near !== undefined) meant.add(near);
          this.report(M.unknownNamedArg, a.name.span, [callee, a.name.name], { hint: near && `did you mean \`${near}\`?` });
          this.expr(a.value, undefined);
          continue;
        }
        if (given[slot]) {
          this.report(M.duplicateArg, a.name.span, [callee, a.name.name]);
          this.expr(a.value, undefined);
          continue;
        }
      }
      given[slot] = true;
      out[slot] = a.value;
      const want = params[slot]!.type;
      const t = this.expr(a.value, want);
      if (!isAssignable(t, want)) this.report(M.argMismatch, a.value.span, [callee, params[slot]!.name, typeToString(t), typeToString(want)]);
    }
    const missing = params.filter((p, i) => p.required && !given[i] && !meant.has(p.name)).map((p) => p.name);
    if (missing.length) this.report(M.missingArgs, e.callee.span, [callee, missing]);
    return out;
  }
}

/** Why nothing after `s` runs, for the unreachable-statement hint. */
function whyUnreachable(s: ast.Stmt): string {
  switch (s.kind) {
    case "Return":
    case "Break":
    case "Continue":
    case "Fail":
      return `the \`${s.kind.toLowerCase()}\` above always leaves this block`;
    case "While":
      return "the `while true` loop above never ends (it has no `break`)";
    default:
      return "every path through the statement above leaves this block";
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
function describeTarget(e: ast.Expr): string {
  switch (e.kind) {
    case "Name":
      return e.name;
    case "Member":
      return `${describeTarget(e.object)}${e.optional ? "?." : "."}${e.property.name}`;
    case "Index":
      return `${describeTarget(e.object)}[${e.index.kind === "String" ? JSON.stringify(e.index.value) : e.index.kind === "Number" ? e.index.value : e.index.kind === "Name" ? e.index.name : "…"}]`;
    case "Call":
      return `${describeTarget(e.callee)}(…)`;
    default:
      return "…";
  }
}

