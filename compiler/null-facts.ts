// What a condition proves about null: the names it shows are not null when it is true or when
// it is false. A pure function of the syntax, used by operators (`x != null and x > 1`, in
// check-expr.ts) and statements (`if x != null { ... }`, in check-runbook.ts), so it stands apart.
import type * as ast from "../grammar/ast.js";
import { assertNever } from "../runtime/never.js";

/**
 * Names of locals known not to be null when `cond` is true (`whenTrue`) or false (`whenFalse`):
 * from `x != null`, `x == null`, and their combinations with `and`, `or`, `not`.
 */
export function nullFacts(cond: ast.Expr): { whenTrue: string[]; whenFalse: string[] } {
  switch (cond.kind) {
    case "Binary": {
      if (cond.operator === "==" || cond.operator === "!=") {
        const name =
          cond.left.kind === "Name" && cond.right.kind === "Null" ? cond.left.name : cond.right.kind === "Name" && cond.left.kind === "Null" ? cond.right.name : undefined;
        if (name === undefined) return { whenTrue: [], whenFalse: [] };
        return cond.operator === "!=" ? { whenTrue: [name], whenFalse: [] } : { whenTrue: [], whenFalse: [name] };
      }
      if (cond.operator === "and") return { whenTrue: [...nullFacts(cond.left).whenTrue, ...nullFacts(cond.right).whenTrue], whenFalse: [] };
      if (cond.operator === "or") return { whenTrue: [], whenFalse: [...nullFacts(cond.left).whenFalse, ...nullFacts(cond.right).whenFalse] };
      return { whenTrue: [], whenFalse: [] };
    }
    case "Unary": {
      if (cond.operator !== "not") return { whenTrue: [], whenFalse: [] };
      const inner = nullFacts(cond.operand);
      return { whenTrue: inner.whenFalse, whenFalse: inner.whenTrue };
    }
    case "Number":
    case "String":
    case "Template":
    case "Bool":
    case "Null":
    case "Duration":
    case "List":
    case "Map":
    case "Name":
    case "Member":
    case "Index":
    case "Call":
    case "Wait":
    case "Start":
    case "Await":
    case "Parallel":
    case "ErrorExpr":
      return { whenTrue: [], whenFalse: [] };
    default:
      return assertNever(cond, "expression");
  }
}
