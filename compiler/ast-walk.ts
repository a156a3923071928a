// The sub-expressions of an expression, for the back end's walks (name resolution, liveness).
// A call's callee is not among them: it names a runbook, built-in or `use` alias, never a value.
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
