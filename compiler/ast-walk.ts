// The one AST walker: the children of every node kind, written once, so every pass that walks
// the tree (name resolution, suspension, liveness, retry scopes, metadata) learns about a new kind
// here. Both switches are exhaustive: a kind added to grammar/ast.ts fails to compile here until
// its children are listed. A call's callee is not a sub-expression: it names a runbook, built-in
// or `use` alias, never a value.
import type * as ast from "../grammar/ast.js";
import { assertNever } from "../runtime/never.js";

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
    case "Parallel":
      // Its body is another runbook's (check-parallel.ts): here it reads its captures.
      return [e.iterable, ...(e.limit ? [e.limit] : []), ...(e.captures ?? [])];
    case "Number":
    case "String":
    case "Bool":
    case "Null":
    case "Duration":
    case "Name":
    case "ErrorExpr":
      return [];
    default:
      return assertNever(e, "expression");
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
    default:
      return assertNever(s, "statement");
  }
}

/** What a walk does at each node; returning `false` skips the node's children. */
export interface Visitor {
  stmt?(s: ast.Stmt): boolean | void;
  expr?(e: ast.Expr): boolean | void;
}

/**
 * Pre-order walk of a block, statement or expression: a statement, then its expressions (and
 * theirs), then its nested blocks; an expression before its sub-expressions.
 */
export function walk(node: ast.Block | ast.Stmt | ast.Expr | undefined, v: Visitor): void {
  if (!node) return;
  if (node.kind === "Block") {
    for (const s of node.statements) walk(s, v);
  } else if (isStmt(node)) {
    if (v.stmt?.(node) === false) return;
    const parts = stmtParts(node);
    for (const e of parts.exprs) walk(e, v);
    for (const n of parts.nested) walk(n, v);
  } else {
    if (v.expr?.(node) === false) return;
    for (const c of childExprs(node)) walk(c, v);
  }
}

/** Every expression under `node`, parents first. */
export function forEachExpr(node: ast.Block | ast.Stmt | ast.Expr | undefined, f: (e: ast.Expr) => void): void {
  walk(node, { expr: (e) => void f(e) });
}

const STMT_KINDS: Record<ast.Stmt["kind"], true> = {
  Let: true, Assign: true, If: true, While: true, For: true, Break: true, Continue: true, Return: true,
  Checkpoint: true, Sleep: true, Suspend: true, Stream: true, Fail: true, Try: true, Retry: true, ExprStmt: true,
};

export function isStmt(n: ast.Stmt | ast.Expr): n is ast.Stmt {
  return Object.hasOwn(STMT_KINDS, n.kind);
}
