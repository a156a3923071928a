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
import type { LineMap } from "./positions.js";

export interface Operand {
  /** Start offsets of the operand's `not` prefixes, in source order. */
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
export function applyPrecedence(operands: Operand[], ops: OperatorToken[], lines: LineMap, issues: SyntaxIssue[]): Expr {
  return new PrecedenceReader(operands, ops, lines, issues).parse(0);
}

// A precedence-climbing reader over the operand list. A class (not closures) because this runs
// for every expression with an operator, and closures cost an allocation per call.
class PrecedenceReader {
  /** The next operand to read; ops[next - 1] is the operator after the last operand read. */
  private next = 0;
  /** Index of the operand whose `not`s were applied already. */
  private notsDone = -1;

  constructor(
    private readonly operands: Operand[],
    private readonly ops: OperatorToken[],
    private readonly lines: LineMap,
    private readonly issues: SyntaxIssue[],
  ) {}

  parse(minPrec: number): Expr {
    let left = this.prefix();
    let lastPrec = -1;
    while (this.next - 1 < this.ops.length) {
      const op = this.ops[this.next - 1];
      const p = PREC[op.operator];
      if (p < minPrec) break;
      if (p === lastPrec && (p === COMPARISON || p === RANGE)) {
        this.issues.push({ ...messages.chainedComparison(op.operator), start: op.start, end: op.end });
      }
      lastPrec = p;
      const right = this.parse(p + 1);
      left = { kind: "Binary", span: join(left.span, right.span), operator: op.operator, left, right };
    }
    return left;
  }

  private prefix(): Expr {
    const o = this.operands[this.next];
    if (o.nots.length > 0 && this.notsDone !== this.next) {
      this.notsDone = this.next;
      let inner = this.parse(COMPARISON);
      for (let k = o.nots.length - 1; k >= 0; k--) {
        const span: Span = { file: inner.span.file, start: this.lines.position(o.nots[k]), end: inner.span.end };
        inner = { kind: "Unary", span, operator: "not", operand: inner };
      }
      return inner;
    }
    this.next++;
    return o.expr;
  }
}

function join(from: Span, to: Span): Span {
  return { file: from.file, start: from.start, end: to.end };
}
