// The precomputed fact that decides what lowering splits (TypeScript's `containsYield`): which
// statements contain a suspension point, directly or in a nested statement. Suspension points:
// `checkpoint`, `sleep`, `suspend`, `wait`, `await`, a `retry` that waits between attempts, and
// an inline call of a runbook the checker found can suspend.
import type * as ast from "../grammar/ast.js";
import type { CheckedRunbook } from "./checked.js";

/** The statements of a runbook that contain a suspension point, nested ones included. */
export function containsSuspension(rb: CheckedRunbook): Set<ast.Stmt> {
  const found = new Set<ast.Stmt>();
  const exprSuspends = (e: ast.Expr | undefined): boolean => {
    if (!e) return false;
    if (e.kind === "Wait" || e.kind === "Await") return true;
    if (e.kind === "Call") {
      const r = rb.calls.get(e);
      return r?.kind === "runbook" && r.canSuspend;
    }
    return false; // suspending forms stand only at the top of a statement's value
  };
  const block = (b: ast.Block | undefined): boolean => {
    let any = false;
    for (const s of b?.statements ?? []) if (stmt(s)) any = true;
    return any;
  };
  const stmt = (s: ast.Stmt): boolean => {
    let yes: boolean;
    switch (s.kind) {
      case "Checkpoint":
      case "Sleep":
      case "Suspend":
        yes = true;
        break;
      case "Let":
      case "Assign":
        yes = exprSuspends(s.value);
        break;
      case "Return":
        yes = exprSuspends(s.value);
        break;
      case "ExprStmt":
        yes = exprSuspends(s.expression);
        break;
      case "If": {
        const a = block(s.then);
        const b = s.otherwise?.kind === "If" ? stmt(s.otherwise) : block(s.otherwise);
        yes = a || b;
        break;
      }
      case "While":
      case "For":
        yes = block(s.body);
        break;
      case "Try": {
        const a = block(s.block);
        const b = block(s.handler?.body);
        const c = block(s.finalizer);
        yes = a || b || c;
        break;
      }
      case "Retry":
        yes = block(s.body) || hasDelay(s);
        break;
      default:
        yes = false;
    }
    if (yes) found.add(s);
    return yes;
  };
  block(rb.decl.body);
  return found;
}

/** A retry waits between attempts unless its delay is absent or a literal zero. */
function hasDelay(s: ast.RetryStmt): boolean {
  const d = s.delay;
  if (!d) return false;
  if (d.kind === "Duration") return d.milliseconds > 0;
  if (d.kind === "Number") return d.value > 0;
  return true;
}
