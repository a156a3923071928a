// `parallel for`: the body of each one becomes a runbook of its own, a *branch runbook*, that
// the runtime runs once per element as a child job (docs/language.md, "Parallel branches").
//
// What the body reads of the enclosing runbook travels to each branch as parameters: every
// name the body (nested `parallel for` bodies included) reads that resolves to an enclosing
// local is a *capture*. The branch runbook's parameters are the captures (by the enclosing
// local's name and type) and then the loop names. The body is checked as that runbook
// (check-runbook.ts, `BodyOptions.branch`), where assigning a capture is an error.
import type * as ast from "../grammar/ast.js";
import { childExprs, stmtParts } from "./ast-walk.js";
import type { Signature } from "./checked.js";
import { describeType, type Type } from "./types.js";

/** The name of the n-th (1-based, in source order) branch runbook of `parent`. */
export function branchName(parent: string, n: number): string {
  return `${parent}__branch${n}`;
}

/**
 * Every name the body reads or assigns (the root of an assignment target), first occurrence
 * first, as fresh NameExpr nodes (the enclosing runbook's walks resolve them; the body's own
 * nodes belong to the branch runbook). The loop names are left out: in the body they are the
 * loop's.
 */
export function bodyNames(e: ast.ParallelExpr): ast.NameExpr[] {
  const loopNames = new Set(e.names.map((n) => n.name));
  const seen = new Map<string, ast.NameExpr>();
  const expr = (x: ast.Expr | undefined): void => {
    if (!x) return;
    if (x.kind === "Name") {
      if (!loopNames.has(x.name) && !seen.has(x.name)) seen.set(x.name, { kind: "Name", span: x.span, name: x.name });
      return;
    }
    if (x.kind === "Parallel") {
      expr(x.iterable);
      expr(x.limit);
      block(x.body);
      return;
    }
    for (const c of childExprs(x)) expr(c);
  };
  const stmt = (s: ast.Stmt | ast.Block): void => {
    if (s.kind === "Block") return block(s);
    const parts = stmtParts(s);
    for (const x of parts.exprs) expr(x);
    for (const n of parts.nested) stmt(n);
  };
  const block = (b: ast.Block): void => b.statements.forEach(stmt);
  block(e.body);
  return [...seen.values()];
}

/** A parameter of a branch runbook: a capture or a loop name. */
export interface BranchParam {
  name: string;
  type: Type;
  span: ast.Span;
}

/** The branch runbook's declaration (the body is the `parallel for`'s own block) and signature. */
export function branchDecl(name: string, e: ast.ParallelExpr, params: BranchParam[]): { decl: ast.RunbookDecl; signature: Signature } {
  const decl: ast.RunbookDecl = {
    kind: "Runbook",
    span: e.span,
    name: { kind: "Identifier", span: e.span, name },
    params: params.map((p) => ({
      kind: "Param",
      span: p.span,
      name: { kind: "Identifier", span: p.span, name: p.name },
      // Shown by `runbook job` and the console as the parameter's type; never parsed again.
      type: { kind: "NamedType", span: p.span, name: describeType(p.type) },
      default: undefined,
    })),
    returnType: undefined,
    // A branch holds no concurrency place of its own and goes to its parent's group (insertBranches).
    concurrency: undefined,
    group: undefined,
    body: e.body,
  };
  // The result type is inferred from the body's `return`s (check-runbook.ts) and set afterwards.
  const signature: Signature = { name, params: params.map((p) => ({ name: p.name, type: p.type, hasDefault: false })), returns: { kind: "null" } };
  return { decl, signature };
}
