// The children of AST nodes, for the back end's walks (name resolution, liveness, retry scopes):
// the sub-expressions of an expression, and the parts of a statement. A call's callee is not a
// sub-expression: it names a runbook, built-in or `use` alias, never a value.
import type * as ast from "../grammar/ast.js";

export function childExprs(e: ast.Expr): ast.Expr[] {
  switch (e.kind) {
    case "Template":
      return e.parts.filter((p): p is ast.Expr => typeof p !== "string");
    case "List":
      return e.elements;
    case "Map":
      return e.entries.map((x) => x.value);
    case "Member":
      return [e.object];
    case "Index":
      return [e.object, e.index];
    case "Call":
      return e.args.map((a) => a.value);
    case "Unary":
      return [e.operand];
    case "Binary":
      return [e.left, e.right];
    case "Wait":
      return e.timeout ? [e.timeout] : [];
    case "Start":
      return [e.call];
    case "Await":
      return [e.job];
    default:
      return [];
  }
}

/**
 * The parts of a statement, for walks that treat every statement alike: its own expressions in
 * evaluation order, then the blocks nested in it (an `else if` is its nested IfStmt). A `let`'s
 * name and a `for`/`catch` binder are not parts: walks that bind names handle those themselves.
 */
export function stmtParts(s: ast.Stmt): { exprs: ast.Expr[]; nested: (ast.Block | ast.Stmt)[] } {
  const present = <T>(xs: (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);
  switch (s.kind) {
    case "Let":
      return { exprs: [s.value], nested: [] };
    case "Assign":
      return { exprs: [s.target, s.value], nested: [] };
    case "If":
      return { exprs: [s.condition], nested: present([s.then, s.otherwise]) };
    case "While":
      return { exprs: [s.condition], nested: [s.body] };
    case "For":
      return { exprs: [s.iterable], nested: [s.body] };
    case "Return":
      return { exprs: present([s.value]), nested: [] };
    case "Sleep":
      return { exprs: [s.duration], nested: [] };
    case "Suspend":
      return { exprs: present([s.reason]), nested: [] };
    case "Stream":
      return { exprs: [s.value], nested: [] };
    case "Fail":
      return { exprs: [s.message], nested: [] };
    case "Try":
      return { exprs: [], nested: present([s.block, s.handler?.body, s.finalizer]) };
    case "Retry":
      return { exprs: present([s.attempts, s.delay, s.backoff]), nested: [s.body] };
    case "ExprStmt":
      return { exprs: [s.expression], nested: [] };
    case "Break":
    case "Continue":
    case "Checkpoint":
      return { exprs: [], nested: [] };
  }
}
