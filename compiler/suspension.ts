// The precomputed fact that decides what lowering splits (TypeScript's `containsYield`): which
// statements contain a suspension point, directly or in a nested statement. Suspension points:
// `checkpoint`, `sleep`, `suspend`, `wait`, `await`, a `retry` that waits between attempts, and
// an inline call of a runbook the checker found can suspend.
import type * as ast from "../grammar/ast.js";
import { assertNever } from "../runtime/never.js";
import { stmtParts } from "./ast-walk.js";
import type { CheckedRunbook } from "./checked.js";

/** The statements of a runbook that contain a suspension point, nested ones included. */
export function containsSuspension(rb: CheckedRunbook): Set<ast.Stmt> {
  const found = new Set<ast.Stmt>();
  // A suspending form stands only at the top of a statement's value (the checker refuses it
  // nested), so a statement's own expressions are checked, not their sub-expressions.
  const exprSuspends = (e: ast.Expr): boolean => {
    if (e.kind === "Wait" || e.kind === "Await" || e.kind === "Parallel") return true;
    if (e.kind !== "Call") return false;
    const r = rb.calls.get(e);
    return r?.kind === "runbook" && r.canSuspend;
  };
  const stmt = (s: ast.Stmt): boolean => {
    const parts = stmtParts(s);
    let yes = suspendsItself(s) || parts.exprs.some(exprSuspends);
    // Every nested statement is visited (no short cut): lowering asks about each of them.
    for (const n of parts.nested) if (n.kind === "Block" ? block(n) : stmt(n)) yes = true;
    if (yes) found.add(s);
    return yes;
  };
  const block = (b: ast.Block): boolean => {
    let any = false;
    for (const s of b.statements) if (stmt(s)) any = true;
    return any;
  };
  block(rb.decl.body);
  return found;
}

/** Is the statement itself a suspension point (apart from its expressions and nested blocks)? */
function suspendsItself(s: ast.Stmt): boolean {
  switch (s.kind) {
    case "Checkpoint":
    case "Sleep":
    case "Suspend":
      return true;
    case "Retry":
      return hasDelay(s);
    case "Let":
    case "Assign":
    case "If":
    case "While":
    case "For":
    case "Break":
    case "Continue":
    case "Return":
    case "Stream":
    case "Fail":
    case "Try":
    case "ExprStmt":
      return false;
    default:
      return assertNever(s, "statement");
  }
}

/** A retry waits between attempts unless its delay is absent or a literal zero. */
function hasDelay(s: ast.RetryStmt): boolean {
  const d = s.delay;
  if (!d) return false;
  if (d.kind === "Duration") return d.milliseconds > 0;
  if (d.kind === "Number") return d.value > 0;
  return true;
}
