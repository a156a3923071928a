// Which `retry` an activity call runs under: an activity's `ctx.attempt` is the 1-based attempt
// of the innermost `retry` block whose body encloses the call (1 outside any retry), so the
// emitter passes that retry's attempt counter to `ctx.activity`. Only the body counts: a retry's
// `attempts`, `delay` and `backoff` are evaluated once, outside it. A call inside a runbook
// called inline is that runbook's business (its own retries, or 1).
import type * as ast from "../grammar/ast.js";
import { childExprs } from "./ast-walk.js";
import type { CheckedRunbook } from "./checked.js";

/** Every activity call of the runbook that stands inside a retry body, with its innermost retry. */
export function enclosingRetries(rb: CheckedRunbook): Map<ast.CallExpr, ast.RetryStmt> {
  const found = new Map<ast.CallExpr, ast.RetryStmt>();
  const expr = (e: ast.Expr | undefined, retry: ast.RetryStmt | undefined): void => {
    if (!e) return;
    if (retry && e.kind === "Call" && rb.calls.get(e)?.kind === "activity") found.set(e, retry);
    for (const child of childExprs(e)) expr(child, retry);
  };
  const block = (b: ast.Block | undefined, retry: ast.RetryStmt | undefined): void => {
    for (const s of b?.statements ?? []) stmt(s, retry);
  };
  const stmt = (s: ast.Stmt, retry: ast.RetryStmt | undefined): void => {
    switch (s.kind) {
      case "Let":
        return expr(s.value, retry);
      case "Assign":
        expr(s.target, retry);
        return expr(s.value, retry);
      case "If":
        expr(s.condition, retry);
        block(s.then, retry);
        if (s.otherwise?.kind === "If") return stmt(s.otherwise, retry);
        return block(s.otherwise, retry);
      case "While":
        expr(s.condition, retry);
        return block(s.body, retry);
      case "For":
        expr(s.iterable, retry);
        return block(s.body, retry);
      case "Return":
        return expr(s.value, retry);
      case "Sleep":
        return expr(s.duration, retry);
      case "Suspend":
        return expr(s.reason, retry);
      case "Stream":
        return expr(s.value, retry);
      case "Fail":
        return expr(s.message, retry);
      case "Try":
        block(s.block, retry);
        block(s.handler?.body, retry);
        return block(s.finalizer, retry);
      case "Retry":
        expr(s.attempts, retry);
        expr(s.delay, retry);
        expr(s.backoff, retry);
        return block(s.body, s);
      case "ExprStmt":
        return expr(s.expression, retry);
      case "Break":
      case "Continue":
      case "Checkpoint":
        return;
    }
  };
  block(rb.decl.body, undefined);
  return found;
}
