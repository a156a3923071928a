// Bounds the depth of a built tree. Brackets are bounded before parsing (layout.ts), but a tree
// can still grow deep without them: `1 + 1 + ... + 1` with 50,000 terms, `not not ... x`,
// `a.b.b.b...`, or a long `else if` chain. Every later stage walks the tree recursively, so the
// parser refuses such a tree here. The walk stops descending at the limit, so it cannot
// overflow the stack itself.
import type { Block, Expr, SourceFileNode, Stmt, TypeNode } from "./ast.js";
import { assertNever } from "../runtime/never.js";

/** Deepest AST the parser hands on; well inside what recursive walkers manage on Node's stack. */
export const MAX_TREE_DEPTH = 1000;

/** True when some node of `root` lies deeper than `limit` levels. */
export function exceedsDepth(root: SourceFileNode, limit: number): boolean {
  const r = root.runbook;
  if (r === undefined) return false;
  let d = blockDepth(r.body, 2, limit);
  for (const p of r.params) {
    d = Math.max(d, typeDepth(p.type, 3, limit));
    if (p.default) d = Math.max(d, exprDepth(p.default, 3, limit));
  }
  if (r.returnType) d = Math.max(d, typeDepth(r.returnType, 2, limit));
  return d > limit;
}

// Each function returns the deepest level reached below `d`, or a value > limit as soon as one
// is found (and then stops).

function blockDepth(b: Block, d: number, limit: number): number {
  let max = d;
  for (const s of b.statements) {
    max = Math.max(max, stmtDepth(s, d + 1, limit));
    if (max > limit) return max;
  }
  return max;
}

function stmtDepth(s: Stmt, d: number, limit: number): number {
  if (d > limit) return d;
  switch (s.kind) {
    case "Let":
      return Math.max(exprDepth(s.value, d + 1, limit), s.type ? typeDepth(s.type, d + 1, limit) : d);
    case "Assign":
      return Math.max(exprDepth(s.target, d + 1, limit), exprDepth(s.value, d + 1, limit));
    case "If": {
      let max = Math.max(exprDepth(s.condition, d + 1, limit), blockDepth(s.then, d + 1, limit));
      if (s.otherwise) max = Math.max(max, s.otherwise.kind === "Block" ? blockDepth(s.otherwise, d + 1, limit) : stmtDepth(s.otherwise, d + 1, limit));
      return max;
    }
    case "While":
      return Math.max(exprDepth(s.condition, d + 1, limit), blockDepth(s.body, d + 1, limit));
    case "For":
      return Math.max(exprDepth(s.iterable, d + 1, limit), blockDepth(s.body, d + 1, limit));
    case "Return":
      return s.value ? exprDepth(s.value, d + 1, limit) : d;
    case "Checkpoint":
      return s.label ? d + 1 : d;
    case "Sleep":
      return exprDepth(s.duration, d + 1, limit);
    case "Suspend":
      return s.reason ? exprDepth(s.reason, d + 1, limit) : d;
    case "Stream":
      return exprDepth(s.value, d + 1, limit);
    case "Fail":
      return exprDepth(s.message, d + 1, limit);
    case "Try": {
      let max = blockDepth(s.block, d + 1, limit);
      if (s.handler) max = Math.max(max, blockDepth(s.handler.body, d + 2, limit));
      if (s.finalizer) max = Math.max(max, blockDepth(s.finalizer, d + 1, limit));
      return max;
    }
    case "Retry": {
      let max = blockDepth(s.body, d + 1, limit);
      for (const e of [s.attempts, s.delay, s.backoff]) if (e) max = Math.max(max, exprDepth(e, d + 1, limit));
      return max;
    }
    case "ExprStmt":
      return exprDepth(s.expression, d + 1, limit);
    case "Break":
    case "Continue":
      return d;
    default:
      return assertNever(s, "statement");
  }
}

function exprDepth(e: Expr, d: number, limit: number): number {
  if (d > limit) return d;
  switch (e.kind) {
    case "Binary":
      return Math.max(exprDepth(e.left, d + 1, limit), exprDepth(e.right, d + 1, limit));
    case "Unary":
      return exprDepth(e.operand, d + 1, limit);
    case "Member":
      return exprDepth(e.object, d + 1, limit);
    case "Index":
      return Math.max(exprDepth(e.object, d + 1, limit), exprDepth(e.index, d + 1, limit));
    case "Call": {
      let max = exprDepth(e.callee, d + 1, limit);
      for (const a of e.args) max = Math.max(max, exprDepth(a.value, d + 2, limit));
      return max;
    }
    case "List": {
      let max = d;
      for (const x of e.elements) max = Math.max(max, exprDepth(x, d + 1, limit));
      return max;
    }
    case "Map": {
      let max = d;
      for (const x of e.entries) max = Math.max(max, exprDepth(x.value, d + 2, limit));
      return max;
    }
    case "Template": {
      let max = d;
      for (const p of e.parts) if (typeof p !== "string") max = Math.max(max, exprDepth(p, d + 1, limit));
      return max;
    }
    case "Wait":
      return e.timeout ? exprDepth(e.timeout, d + 1, limit) : d + 1;
    case "Start":
      return exprDepth(e.call, d + 1, limit);
    case "Await":
      return exprDepth(e.job, d + 1, limit);
    case "Parallel":
      return Math.max(exprDepth(e.iterable, d + 1, limit), e.limit ? exprDepth(e.limit, d + 1, limit) : d, blockDepth(e.body, d + 1, limit));
    case "Number":
    case "String":
    case "Bool":
    case "Null":
    case "Duration":
    case "Name":
    case "ErrorExpr":
      return d;
    default:
      return assertNever(e, "expression");
  }
}

function typeDepth(t: TypeNode, d: number, limit: number): number {
  if (d > limit) return d;
  switch (t.kind) {
    case "ListType":
      return typeDepth(t.element, d + 1, limit);
    case "MapType":
      return typeDepth(t.value, d + 1, limit);
    case "OptionalType":
      return typeDepth(t.inner, d + 1, limit);
    case "RecordType": {
      let max = d;
      for (const f of t.fields) max = Math.max(max, typeDepth(f.type, d + 2, limit));
      return max;
    }
    case "NamedType":
      return d;
    default:
      return assertNever(t, "type");
  }
}
