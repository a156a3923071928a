// Operator precedence, applied to the flat `operand (op operand)*` the grammar reads.
//
// From loosest to tightest (LANGUAGE.md): `??` < `or` < `and` < `not` < comparisons < `..` <
// `+ -` < `* / %` < unary `-` < postfix. Binary operators are left-associative, except that
// comparisons and `..` do not chain at all (`a < b < c` is an error, as is `1..2..3`).
// `not` is a prefix operator looser than comparisons: `not a == b` is `not (a == b)`, and
// `a and not b or c` is `(a and (not b)) or c`. Unary `-` binds tighter than any binary operator
// and is applied by the builder before this runs. (`not` sits at level 4, between `and` and the
// comparisons: its operand is read at the comparison level.)
import type { BinaryOperator, Expr, Span } from "./ast.js";
import { messages, type SyntaxIssue } from "./messages.js";

export interface Operand {
  /** `not` prefixes in source order: their start offsets. */
  nots: number[];
  /** The operand with its unary minus already applied. */
  expr: Expr;
}

export interface OperatorToken {
  operator: BinaryOperator;
  start: number;
  end: number;
}

const PREC: Record<BinaryOperator, number> = {
  "??": 1,
  or: 2,
  and: 3,
  "==": 5,
  "!=": 5,
  "<": 5,
  "<=": 5,
  ">": 5,
  ">=": 5,
  "..": 6,
  "+": 7,
  "-": 7,
  "*": 8,
  "/": 8,
  "%": 8,
};
const COMPARISON = 5;
const RANGE = 6;

/** Combines operands and the operators between them into one expression tree. */
export function applyPrecedence(
  operands: Operand[],
  ops: OperatorToken[],
  makeSpan: (from: Span, to: Span) => Span,
  notSpan: (start: number, to: Span) => Span,
  issues: SyntaxIssue[],
): Expr {
  let next = 0; // the next operand to read; ops[next - 1] is the operator after the last one read
  const notsDone = new Set<number>();

  const prefix = (): Expr => {
    const o = operands[next];
    if (o.nots.length > 0 && !notsDone.has(next)) {
      notsDone.add(next);
      let inner = parse(COMPARISON);
      for (let k = o.nots.length - 1; k >= 0; k--) {
        inner = { kind: "Unary", span: notSpan(o.nots[k], inner.span), operator: "not", operand: inner };
      }
      return inner;
    }
    next++;
    return o.expr;
  };

  const parse = (minPrec: number): Expr => {
    let left = prefix();
    let lastPrec = -1;
    while (next - 1 < ops.length) {
      const op = ops[next - 1];
      const p = PREC[op.operator];
      if (p < minPrec) break;
      if (p === lastPrec && (p === COMPARISON || p === RANGE)) {
        issues.push({ ...messages.chainedComparison(op.operator), start: op.start, end: op.end });
      }
      lastPrec = p;
      if (next >= operands.length) break; // defensive: the grammar always pairs op and operand
      const right = parse(p + 1);
      left = { kind: "Binary", span: makeSpan(left.span, right.span), operator: op.operator, left, right };
    }
    return left;
  };

  // Every operator binds at level 0 or tighter, so this reads all operands.
  return parse(0);
}
