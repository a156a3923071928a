// What each name of a runbook body binds to: every local (parameter, `let`, `for` name, `catch`
// name) with its declaration, its type, where it is visible and every reference to it. Hover,
// go to definition, completion of locals, document symbols and rename all read this table.
//
// The checker resolves the same names while it checks, then keeps only the types of
// expressions; until it hands its bindings over (issue 12's compiler API), this walk repeats its
// scoping rules (compiler/scope.ts): parameters share the body's outermost scope, a `for` loop's
// names and a `catch` name share their block's scope, every other block opens its own, and a
// redeclaration in the same scope leaves the first declaration in force. Types come from the
// checker's table of expression types, so nothing here infers a type.
import type * as ast from "../grammar/ast.js";
import { childExprs } from "../compiler/ast-walk.js";
import type { CheckedRunbook } from "../compiler/checked.js";
import { DISCARD, type LocalKind } from "../compiler/scope.js";
import { ERROR_RECORD, T, mapValueType, typeFromNode, type Type } from "../compiler/types.js";

export interface LocalBinding {
  name: string;
  kind: LocalKind;
  /** The name where it is declared. */
  decl: ast.Span;
  /** Its declared or inferred type; undefined when the checker has no type for it. */
  type: Type | undefined;
  /** Where a reference reaches it: the offsets strictly between `from` (its declaration's end) and `to` (its block's end). */
  visible: { from: number; to: number };
  /** Every reference (reads and assignment targets), in source order. */
  refs: ast.NameExpr[];
}

export interface Bindings {
  locals: LocalBinding[];
  /** Name reference → the local it reads or writes (names that bind no local are absent). */
  byRef: Map<ast.NameExpr, LocalBinding>;
}

/** Binds the names of `decl`; `checked` (absent for a duplicate runbook) supplies the types. */
export function bindRunbook(decl: ast.RunbookDecl, checked: CheckedRunbook | undefined): Bindings {
  return new Binder(checked?.types).run(decl);
}

/** The local a reference or a declaration at `offset` stands for, innermost first. */
export function localAt(b: Bindings, offset: number): LocalBinding | undefined {
  for (const l of b.locals) if (l.decl.start.offset <= offset && offset <= l.decl.end.offset) return l;
  for (const [ref, l] of b.byRef) if (ref.span.start.offset <= offset && offset <= ref.span.end.offset) return l;
  return undefined;
}

/** The locals a name at `offset` could read: one per name, the innermost declaration. */
export function localsVisibleAt(b: Bindings, offset: number): LocalBinding[] {
  const byName = new Map<string, LocalBinding>();
  for (const l of b.locals) {
    if (offset <= l.visible.from || offset >= l.visible.to) continue; // after its declaration, before its block's `}`
    const other = byName.get(l.name);
    if (!other || l.visible.from > other.visible.from) byName.set(l.name, l);
  }
  return [...byName.values()];
}

type Scope = { names: Map<string, LocalBinding>; end: number };

class Binder {
  private readonly locals: LocalBinding[] = [];
  private readonly byRef = new Map<ast.NameExpr, LocalBinding>();
  private scopes: Scope[] = [];

  constructor(private readonly types: Map<ast.Expr, Type> | undefined) {}

  run(decl: ast.RunbookDecl): Bindings {
    // Defaults see no locals (only literals and built-in functions are allowed there).
    for (const p of decl.params) if (p.default) this.inScopes([], () => this.expr(p.default!));
    const body = decl.body;
    const top: Scope = { names: new Map(), end: body.span.end.offset };
    this.inScopes([top], () => {
      for (const p of decl.params) this.declare(p.name, "param", typeFromNode(p.type, () => {}), body.span.start.offset);
      this.statements(body.statements);
    });
    return { locals: this.locals, byRef: this.byRef };
  }

  private inScopes(scopes: Scope[], f: () => void): void {
    const saved = this.scopes;
    this.scopes = scopes;
    f();
    this.scopes = saved;
  }

  private declare(id: ast.Identifier, kind: LocalKind, type: Type | undefined, from: number): void {
    if (id.name === DISCARD) return;
    const scope = this.scopes[this.scopes.length - 1]!;
    const local: LocalBinding = { name: id.name, kind, decl: id.span, type, visible: { from, to: scope.end }, refs: [] };
    this.locals.push(local);
    if (!scope.names.has(id.name)) scope.names.set(id.name, local);
  }

  private block(block: ast.Block, scope?: Scope): void {
    this.scopes.push(scope ?? { names: new Map(), end: block.span.end.offset });
    this.statements(block.statements);
    this.scopes.pop();
  }

  private statements(stmts: ast.Stmt[]): void {
    for (const s of stmts) this.statement(s);
  }

  private statement(s: ast.Stmt): void {
    switch (s.kind) {
      case "Let": {
        this.expr(s.value);
        const type = s.type ? typeFromNode(s.type, () => {}) : this.types?.get(s.value);
        this.declare(s.name, "let", type, s.span.end.offset);
        return;
      }
      case "For": {
        this.expr(s.iterable);
        const scope: Scope = { names: new Map(), end: s.body.span.end.offset };
        const types = forTypes(this.types?.get(s.iterable), s.names.length);
        this.scopes.push(scope);
        s.names.forEach((id, i) => this.declare(id, "for", types?.[i], s.body.span.start.offset));
        this.scopes.pop();
        this.block(s.body, scope);
        return;
      }
      case "Try": {
        this.block(s.block);
        const h = s.handler;
        if (h) {
          const scope: Scope = { names: new Map(), end: h.body.span.end.offset };
          this.scopes.push(scope);
          this.declare(h.param, "catch", ERROR_RECORD, h.body.span.start.offset);
          this.scopes.pop();
          this.block(h.body, scope);
        }
        if (s.finalizer) this.block(s.finalizer);
        return;
      }
      case "If":
        this.expr(s.condition);
        this.block(s.then);
        if (s.otherwise?.kind === "If") this.statement(s.otherwise);
        else if (s.otherwise) this.block(s.otherwise);
        return;
      case "While":
        this.expr(s.condition);
        this.block(s.body);
        return;
      case "Retry":
        for (const e of [s.attempts, s.delay, s.backoff]) if (e) this.expr(e);
        this.block(s.body);
        return;
      case "Assign":
        this.expr(s.target);
        this.expr(s.value);
        return;
      case "Return":
        if (s.value) this.expr(s.value);
        return;
      case "Sleep":
        this.expr(s.duration);
        return;
      case "Suspend":
        if (s.reason) this.expr(s.reason);
        return;
      case "Stream":
        this.expr(s.value);
        return;
      case "Fail":
        this.expr(s.message);
        return;
      case "ExprStmt":
        this.expr(s.expression);
        return;
      case "Break":
      case "Continue":
      case "Checkpoint":
        return;
    }
  }

  private expr(e: ast.Expr): void {
    if (e.kind === "Name") {
      const local = this.lookup(e.name);
      if (local) {
        local.refs.push(e);
        this.byRef.set(e, local);
      }
      return;
    }
    for (const c of childExprs(e)) this.expr(c);
  }

  private lookup(name: string): LocalBinding | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const l = this.scopes[i]!.names.get(name);
      if (l) return l;
    }
    return undefined;
  }
}

/** The types of a `for` loop's names, from its iterable's type (the checker's rule, check-runbook.ts). */
function forTypes(iterable: Type | undefined, names: number): [Type, Type] | undefined {
  if (!iterable) return undefined;
  switch (iterable.kind) {
    case "list":
      return names === 1 ? [iterable.element, T.error] : [T.number, iterable.element];
    case "map":
    case "record":
      return [T.string, mapValueType(iterable)];
    case "any":
      return [T.any, T.any];
    default:
      return undefined;
  }
}
