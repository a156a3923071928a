// Checks one runbook's body: scopes, statements, reachability and unused locals, on top of the
// expression and call checks of check-expr.ts and check-call.ts. It records what the
// project-level pass (checker.ts) needs: inline-call edges, whether the body suspends by itself,
// and inline calls standing where a suspending call may not (an error only if the callee turns
// out to suspend, which needs the whole call graph).
import type * as ast from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { CallResolution, Signature } from "./checked.js";
import type { Bindings } from "./bindings.js";
import { CallChecker } from "./check-call.js";
import { describeTarget, type BodyFacts, type Place, type ProjectView } from "./check-expr.js";
import { bodyNames, branchDecl, branchName, type BranchParam } from "./check-parallel.js";
import { M } from "./messages.js";
import { nullFacts } from "./null-facts.js";
import { DISCARD, Scope, didYouMean, type Local, type LocalKind } from "./scope.js";
import { ERROR_RECORD, NAMED_TYPES, T, binaryType, isAssignable, isNullable, joinAll, mapValueType, typeFromNode, describeType, type Type } from "./types.js";
import { assertNever } from "../runtime/never.js";

export type { BodyFacts, CallSite, ProjectView, UseInfo } from "./check-expr.js";

export interface BodyOptions {
  /**
   * The file had no syntax errors. Otherwise the parser may have dropped statements, so the
   * findings that a missing statement could fake (unused locals, unreachable code, a missing
   * `return`) are not reported.
   */
  parsedCleanly: boolean;
  /**
   * Checking the body of a `parallel for` as its branch runbook (check-parallel.ts): these
   * parameters are captured enclosing locals (read-only), the body is a block inside the
   * parameters' scope (it may shadow them), and `return` values infer the result type.
   */
  branch?: { captured: ReadonlySet<string> };
}

/** A `parallel for` body checked as a runbook of its own. */
export interface CheckedBranch {
  decl: ast.RunbookDecl;
  signature: Signature;
  facts: BodyFacts;
  calls: Map<ast.CallExpr, CallResolution>;
  types: Map<ast.Expr, Type>;
  bindings: Bindings;
}

export interface BodyResult {
  diagnostics: Diagnostic[];
  facts: BodyFacts;
  calls: Map<ast.CallExpr, CallResolution>;
  types: Map<ast.Expr, Type>;
  bindings: Bindings;
  /** The branch runbooks of its `parallel for`s, nested ones included. */
  branches: CheckedBranch[];
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

interface Loop {
  broken: boolean;
}

class RunbookChecker extends CallChecker {
  private readonly loops: Loop[] = [];
  private readonly branches: CheckedBranch[] = [];
  /** A branch runbook: the types its `return`s give (null for a `return` without a value). */
  private readonly branchReturns: Type[] = [];

  constructor(
    decl: ast.RunbookDecl,
    signature: Signature,
    view: ProjectView,
    private readonly opts: BodyOptions,
  ) {
    super(decl, signature, view);
  }

  run(): BodyResult {
    this.checkDefaults();
    const top = new Scope(undefined);
    top.span = this.decl.body.span;
    this.decl.params.forEach((p, i) => this.declare(top, p.name, "param", this.signature.params[i]?.type ?? T.error));
    const completes = this.block(this.decl.body, this.opts.branch ? new Scope(top) : top);
    if (this.opts.branch) {
      // `null` where a branch ends without a value; a mix no type joins is `any`.
      if (completes) this.branchReturns.push(T.null);
      this.signature.returns = joinAll(this.branchReturns.length ? this.branchReturns : [T.null]) ?? T.any;
    }
    const returns = this.signature.returns;
    if (completes && this.decl.returnType && !isAssignable(T.null, returns) && this.opts.parsedCleanly) {
      // At the closing brace: that is where the runbook falls off its end.
      const end = this.decl.body.span.end;
      const start = { line: end.line, column: Math.max(1, end.column - 1), offset: Math.max(0, end.offset - 1) };
      this.report(M.missingReturn, { file: this.decl.body.span.file, start, end }, [this.signature.name, describeType(returns)], {
        hint: `end every path with \`return\`, or declare the result optional: \`-> ${describeType(returns)}?\``,
      });
    }
    return { diagnostics: this.diagnostics, facts: this.facts, calls: this.calls, types: this.types, bindings: this.bindings, branches: this.branches };
  }

  /**
   * `parallel for`: the iterable and options here; the body as a branch runbook of its own,
   * whose parameters are the enclosing locals it reads (check-parallel.ts). Its type is the
   * list of the branches' results.
   */
  protected parallel(e: ast.ParallelExpr, place: Place): Type {
    this.suspension(e.span, place, "`parallel for`", "let results = parallel for x in xs { ... }");
    const types = this.iterationTypes(e.iterable, e.names.length);
    if (e.limit) {
      const t = this.expr(e.limit, T.number);
      if (!this.expect(t, ["number"])) this.report(M.parallelLimit, e.limit.span, [describeType(t)]);
    }
    const captures: BranchParam[] = [];
    e.captures = [];
    for (const n of bodyNames(e)) {
      const local = this.scope.lookup(n.name);
      if (!local) continue; // the body's own local, or unknown (reported in the body)
      e.captures.push(n);
      captures.push({ name: n.name, type: this.expr(n, undefined), span: n.span });
    }
    const loopParams = e.names.map((id, i) => ({ name: id.name, type: types[i]!, span: id.span }));
    const name = branchName(this.signature.name, ++this.branchCount.n);
    e.branch = name;
    const { decl, signature } = branchDecl(name, e, [...captures, ...loopParams]);
    const branch = { captured: new Set(captures.map((c) => c.name)) };
    const result = new RunbookChecker(decl, signature, this.view, { ...this.opts, branch }).run();
    this.diagnostics.push(...result.diagnostics);
    this.branches.push({ decl, signature, facts: result.facts, calls: result.calls, types: result.types, bindings: result.bindings }, ...result.branches);
    return T.list(signature.returns);
  }

  /** Branch runbooks are numbered in source order; nested ones count on from their own name. */
  private readonly branchCount = { n: 0 };

  // -------------------------------------------------------------------------------------------
  // Helpers

  /** `from`: the offset the name is usable from (default: its scope's block start). */
  private declare(scope: Scope, id: ast.Identifier, kind: LocalKind, type: Type, from?: number): Local {
    const { local, previous } = scope.declare(id, kind, type);
    this.bindings.all.push(local.binding);
    this.bindings.ofDecl.set(id, local.binding);
    local.binding.inScope = !previous && id.name !== DISCARD;
    local.binding.visible.from = from ?? scope.span?.start.offset ?? id.span.start.offset;
    local.binding.visible.to = scope.span?.end.offset ?? local.binding.visible.from;
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

  // -------------------------------------------------------------------------------------------
  // Statements: each returns whether it can complete normally (for reachability)

  private block(block: ast.Block, scope = new Scope(this.scope)): boolean {
    scope.span ??= block.span;
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
          this.report(M.letMismatch, s.value.span, [s.name.name, describeType(t), describeType(declared)]);
        }
        this.declare(this.scope, s.name, "let", declared ?? t, s.span.end.offset);
        return true;
      }
      case "Assign":
        this.assign(s);
        return true;
      case "If": {
        this.condition(s.condition, "if");
        const facts = nullFacts(s.condition);
        const a = this.block(s.then, this.narrowed(facts.whenTrue));
        let b = true;
        const otherwise = s.otherwise;
        if (otherwise) {
          const scope = this.narrowed(facts.whenFalse);
          b = otherwise.kind === "If" ? this.inScope(scope, () => this.statement(otherwise)) : this.block(otherwise, scope);
        }
        // When one arm never completes, code after the `if` runs only after the other one:
        // `if x == null { return }` leaves `x` known not null for the rest of the block.
        if (!a && b) this.narrowHere(this.scope, facts.whenFalse);
        if (a && !b) this.narrowHere(this.scope, facts.whenTrue);
        return a || b;
      }
      case "While": {
        this.condition(s.condition, "while");
        const loop = this.loop(() => this.block(s.body, this.narrowed(nullFacts(s.condition).whenTrue)));
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
          this.report(M.sleepNotDuration, s.duration.span, [describeType(t)], { hint: t.kind === "number" ? "write a duration such as `30s` or `5m`" : undefined });
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
        if (e.kind !== "Call" && e.kind !== "Wait" && e.kind !== "Await" && e.kind !== "Start" && e.kind !== "Parallel" && e.kind !== "ErrorExpr") {
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
      this.report(M.conditionNotBool, e.span, [stmt, describeType(t)], {
        hint: isNullable(t) ? "compare it explicitly, e.g. `x != null`" : t.kind === "number" ? "compare it explicitly, e.g. `n > 0`" : undefined,
      });
    }
  }

  private stringOperand(e: ast.Expr, what: string): void {
    const t = this.expr(e, T.string);
    if (!this.expect(t, ["string"])) {
      this.report(M.notString, e.span, [what, describeType(t)], {
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
      // A local seen narrowed (`T` for its `T?`) takes any value of its declared type; a
      // value that may be null ends the narrowing.
      const narrowed = s.target.kind === "Name" ? this.scope.lookup(s.target.name) : undefined;
      const want = narrowed?.origin ? narrowed.origin.type : target;
      const t = this.expr(s.value, want, "alone");
      if (!isAssignable(t, want)) {
        this.report(M.assignMismatch, s.value.span, [name, describeType(t), describeType(want)], {
          hint: want.kind === "null" ? `declare its type where it is declared, e.g. \`let ${name}: ${describeType(T.optional(t))} = null\`` : undefined,
        });
      }
      if (narrowed?.origin && isNullable(t)) narrowed.type = narrowed.origin.type;
      return;
    }
    const t = this.expr(s.value, target, "alone");
    const op = s.operator === "+=" ? "+" : "-";
    const result = binaryType(op, target, t);
    if (result === undefined) {
      this.report(M.binaryOperands, s.span, [s.operator, describeType(target), describeType(t)]);
    } else if (!isAssignable(result, target)) {
      this.report(M.assignMismatch, s.value.span, [name, describeType(result), describeType(target)]);
    }
  }

  /** The type of an assignment target, or undefined when it is not assignable (reported). */
  private target(t: ast.NameExpr | ast.MemberExpr | ast.IndexExpr | ast.Expr): Type | undefined {
    switch (t.kind) {
      case "Name": {
        const local = this.scope.lookup(t.name);
        if (local && local.kind === "param" && this.opts.branch?.captured.has(t.name)) {
          this.report(M.assignCaptured, t.span, [t.name], {
            hint: `each branch has its own copy of \`${t.name}\`: \`return\` what it computes and use the \`parallel for\`'s list of results`,
          });
          return undefined;
        }
        if (local) {
          this.refer(t, local);
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
      case "Number":
      case "String":
      case "Template":
      case "Bool":
      case "Null":
      case "Duration":
      case "List":
      case "Map":
      case "Call":
      case "Unary":
      case "Binary":
      case "Wait":
      case "Start":
      case "Await":
      case "Parallel":
        this.report(M.invalidAssignTarget, t.span, ["only a local, or a field or element of one, can be assigned"]);
        return undefined;
      default:
        return assertNever(t, "expression");
    }
  }

  private forLoop(s: ast.ForStmt): void {
    const types = this.iterationTypes(s.iterable, s.names.length);
    const scope = new Scope(this.scope);
    scope.span = s.body.span;
    s.names.forEach((id, i) => this.declare(scope, id, "for", types[i]!));
    this.loop(() => this.block(s.body, scope));
  }

  /** The types of the names of `for` (and `parallel for`) over `e`, with one or two names. */
  private iterationTypes(e: ast.Expr, names: number): [Type, Type] {
    const t = this.expr(e, undefined);
    let types: [Type, Type];
    const iterable = t.kind === "optional" ? T.error : t;
    if (t.kind === "optional") {
      this.report(M.notIterable, e.span, [describeType(t)], { hint: "it may be null: give a default with `?? []`" });
    }
    switch (iterable.kind) {
      case "list":
        types = names === 1 ? [iterable.element, T.error] : [T.number, iterable.element];
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
        this.report(M.notIterable, e.span, [describeType(iterable)], {
          hint: iterable.kind === "string" ? "split it first, e.g. `split(s, \"\\n\")`" : iterable.kind === "number" ? "use a range: `1..n` or `range(n)`" : undefined,
        });
        types = [T.error, T.error];
    }
    return types;
  }

  private returnStmt(s: ast.ReturnStmt): void {
    const want = this.signature.returns;
    const name = this.signature.name;
    if (this.opts.branch) {
      this.branchReturns.push(s.value ? this.expr(s.value, undefined, "alone") : T.null);
      return;
    }
    if (!s.value) {
      if (this.decl.returnType && !isAssignable(T.null, want)) this.report(M.returnWithoutValue, s.span, [name, describeType(want)]);
      return;
    }
    const t = this.expr(s.value, this.decl.returnType ? want : undefined, "alone");
    if (!this.decl.returnType) {
      if (t.kind !== "null" && t.kind !== "error") {
        this.report(M.returnWithoutResultType, s.value.span, [name], { hint: `declare it in the header: \`-> ${describeType(t)}\`` });
      }
      return;
    }
    if (!isAssignable(t, want)) this.report(M.returnMismatch, s.value.span, [name, describeType(t), describeType(want)]);
  }

  private tryStmt(s: ast.TryStmt): boolean {
    const body = this.block(s.block);
    let handled = false;
    if (s.handler) {
      const scope = new Scope(this.scope);
      scope.span = s.handler.body.span;
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
      if (!this.expect(t, [want.kind])) this.report(M.retryOption, e.span, [name, describeType(want), describeType(t)]);
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
      if (!isAssignable(t, want)) this.report(M.defaultMismatch, p.default.span, [p.name.name, describeType(t), describeType(want)]);
    });
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
    case "Let":
    case "Assign":
    case "If":
    case "For":
    case "Checkpoint":
    case "Sleep":
    case "Suspend":
    case "Stream":
    case "Try":
    case "Retry":
    case "ExprStmt":
      return "every path through the statement above leaves this block";
    default:
      return assertNever(s, "statement");
  }
}
