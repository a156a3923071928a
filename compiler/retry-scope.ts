// Which `retry` an activity call runs under: an activity's `ctx.attempt` is the 1-based attempt
// of the innermost `retry` block whose body encloses the call (1 outside any retry), so the
// emitter passes that retry's attempt counter to `ctx.activity`. Only the body counts: a retry's
// `attempts`, `delay` and `backoff` are evaluated once, outside it. A call inside a runbook
// called inline is that runbook's business (its own retries, or 1).
import type * as ast from "../grammar/ast.js";
import { childExprs, stmtParts } from "./ast-walk.js";
import type { CheckedRunbook } from "./checked.js";

/** Every activity call of the runbook that stands inside a retry body, with its innermost retry. */
export function enclosingRetries(rb: CheckedRunbook): Map<ast.CallExpr, ast.RetryStmt> {
  const found = new Map<ast.CallExpr, ast.RetryStmt>();
  const expr = (e: ast.Expr, retry: ast.RetryStmt | undefined): void => {
    if (retry && e.kind === "Call" && rb.calls.get(e)?.kind === "activity") found.set(e, retry);
    for (const child of childExprs(e)) expr(child, retry);
  };
  const block = (b: ast.Block, retry: ast.RetryStmt | undefined): void => {
    for (const s of b.statements) stmt(s, retry);
  };
  const stmt = (s: ast.Stmt, retry: ast.RetryStmt | undefined): void => {
    const { exprs, nested } = stmtParts(s);
    // A retry's options are evaluated once, outside it; only its body runs under it.
    for (const e of exprs) expr(e, retry);
    const inner = s.kind === "Retry" ? s : retry;
    for (const n of nested) n.kind === "Block" ? block(n, inner) : stmt(n, inner);
  };
  block(rb.decl.body, undefined);
  return found;
}
