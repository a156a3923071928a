// CST → AST for expressions, strings (with their interpolations) and the helpers every part of
// the builder shares (spans, identifiers, issues).
import type { CstNode, IToken } from "chevrotain";
import type * as A from "./ast.js";
import { lex } from "./lexer.js";
import { layout } from "./layout.js";
import { messages, type SyntaxIssue, type SyntaxMessage } from "./messages.js";
import { parser } from "./parser.js";
import { splitParserMessage } from "./parser-messages.js";
import type { LineMap } from "./positions.js";
import { applyPrecedence, type Operand, type OperatorToken } from "./precedence.js";
import { decodeString, type StringScan } from "./strings.js";
import * as T from "./tokens.js";

export interface BuildContext {
  lines: LineMap;
  issues: SyntaxIssue[];
}

type Children = CstNode["children"];

const tok = (c: Children, key: string, i = 0): IToken | undefined => c[key]?.[i] as IToken | undefined;
const sub = (c: Children, key: string, i = 0): CstNode | undefined => c[key]?.[i] as CstNode | undefined;
const end = (t: IToken): number => t.startOffset + t.image.length;

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export class ExpressionBuilder {
  constructor(protected readonly ctx: BuildContext) {}

  protected span(start: number, endOffset: number): A.Span {
    return this.ctx.lines.span(start, endOffset);
  }

  protected issue(start: number, endOffset: number, msg: SyntaxMessage): void {
    this.ctx.issues.push({ ...msg, start, end: Math.max(start, endOffset) });
  }

  protected ident(t: IToken): A.Identifier {
    return { kind: "Identifier", span: this.span(t.startOffset, end(t)), name: t.image };
  }

  /** The value of a string token that must not interpolate; undefined (reported) if it does. */
  protected plainString(t: IToken, what: string): string | undefined {
    const e = this.stringLiteral(t);
    if (e.kind === "String") return e.value;
    this.issue(t.startOffset, end(t), messages.plainStringOnly(what));
    return undefined;
  }

  expression(cst: CstNode): A.Expr {
    const c = cst.children;
    const operandCsts = c.operand as CstNode[];
    const first = this.operand(operandCsts[0]);
    if (operandCsts.length === 1 && first.nots.length === 0) return first.expr;
    const operands = operandCsts.map((o, i) => (i === 0 ? first : this.operand(o)));
    const ops: OperatorToken[] = ((c.BinaryOp ?? []) as IToken[]).map((t) => ({
      operator: t.image as A.BinaryOperator,
      start: t.startOffset,
      end: end(t),
    }));
    return applyPrecedence(
      operands,
      ops,
      (from, to) => ({ file: from.file, start: from.start, end: to.end }),
      (start, to) => ({ file: to.file, start: this.ctx.lines.position(start), end: to.end }),
      this.ctx.issues,
    );
  }

  private operand(cst: CstNode): Operand {
    const c = cst.children;
    let expr = this.postfix(sub(c, "postfix")!);
    const minus = (c.Minus ?? []) as IToken[];
    for (let i = minus.length - 1; i >= 0; i--) {
      const span = { file: expr.span.file, start: this.ctx.lines.position(minus[i].startOffset), end: expr.span.end };
      // `-` directly on a number literal folds into the literal (so `-1e3` is a Number).
      if (expr.kind === "Number" && i === minus.length - 1) expr = { kind: "Number", span, value: -expr.value };
      else expr = { kind: "Unary", span, operator: "-", operand: expr };
    }
    return { nots: ((c.Not ?? []) as IToken[]).map((t) => t.startOffset), expr };
  }

  private postfix(cst: CstNode): A.Expr {
    const c = cst.children;
    let expr = this.primary(sub(c, "primary")!);
    for (const opCst of (c.postfixOp ?? []) as CstNode[]) expr = this.postfixOp(expr, opCst.children);
    return expr;
  }

  private postfixOp(object: A.Expr, c: Children): A.Expr {
    const start = object.span.start.offset;
    const name = tok(c, "AnyName");
    if (name) {
      const optional = tok(c, "QuestionDot") !== undefined;
      return { kind: "Member", span: this.span(start, end(name)), object, property: this.ident(name), optional };
    }
    const index = sub(c, "expression");
    if (index) {
      return { kind: "Index", span: this.span(start, end(tok(c, "RBracket")!)), object, index: this.expression(index) };
    }
    // A call.
    const span = this.span(start, end(tok(c, "RParen")!));
    const args = ((c.argument ?? []) as CstNode[]).map((a) => this.argument(a.children));
    let named = false;
    for (const a of args) {
      if (a.name) named = true;
      else if (named) this.issue(a.span.start.offset, a.span.end.offset, messages.positionalAfterNamed());
    }
    if (object.kind !== "Name" && object.kind !== "Member") {
      if (object.kind !== "ErrorExpr") this.issue(start, object.span.end.offset, messages.badCallee());
      return { kind: "ErrorExpr", span };
    }
    return { kind: "Call", span, callee: object, args };
  }

  private argument(c: Children): A.Argument {
    const nameTok = tok(c, "AnyName");
    const value = this.expression(sub(c, "expression")!);
    const name = nameTok ? this.ident(nameTok) : undefined;
    return { span: this.span(nameTok ? nameTok.startOffset : value.span.start.offset, value.span.end.offset), name, value };
  }

  private primary(cst: CstNode): A.Expr {
    const c = cst.children;
    for (const key in c) {
      const first = c[key][0];
      switch (key) {
        case "NumberLit": {
          const t = first as IToken;
          const value = Number(t.image);
          if (!Number.isFinite(value)) this.issue(t.startOffset, end(t), messages.numberTooLarge());
          return { kind: "Number", span: this.span(t.startOffset, end(t)), value: Number.isFinite(value) ? value : 0 };
        }
        case "DurationLit": {
          const t = first as IToken;
          let ms = 0;
          for (const m of t.image.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
          return { kind: "Duration", span: this.span(t.startOffset, end(t)), milliseconds: ms };
        }
        case "StringLit":
          return this.stringLiteral(first as IToken);
        case "True":
        case "False": {
          const t = first as IToken;
          return { kind: "Bool", span: this.span(t.startOffset, end(t)), value: key === "True" };
        }
        case "Null": {
          const t = first as IToken;
          return { kind: "Null", span: this.span(t.startOffset, end(t)) };
        }
        case "Identifier": {
          const t = first as IToken;
          return { kind: "Name", span: this.span(t.startOffset, end(t)), name: t.image };
        }
        case "expression": // ( e ): the parentheses leave no trace but the tree's shape
          return this.expression(first as CstNode);
        case "listLit":
          return this.list((first as CstNode).children);
        case "mapLit":
          return this.map((first as CstNode).children);
        case "waitExpr":
          return this.wait((first as CstNode).children);
        case "startExpr": {
          const k = (first as CstNode).children;
          const kw = tok(k, "Start")!;
          const call = this.postfix(sub(k, "postfix")!);
          const span = this.span(kw.startOffset, call.span.end.offset);
          if (call.kind === "Call") return { kind: "Start", span, call };
          if (call.kind !== "ErrorExpr") this.issue(call.span.start.offset, call.span.end.offset, messages.startNeedsCall());
          return { kind: "ErrorExpr", span };
        }
        case "awaitExpr": {
          const k = (first as CstNode).children;
          const kw = tok(k, "Await")!;
          const job = this.postfix(sub(k, "postfix")!);
          return { kind: "Await", span: this.span(kw.startOffset, job.span.end.offset), job };
        }
      }
    }
    // Unreachable for a CST that parsed; stay total anyway.
    return { kind: "ErrorExpr", span: this.span(0, 0) };
  }

  private list(c: Children): A.ListLiteral {
    const elements = ((c.expression ?? []) as CstNode[]).map((e) => this.expression(e));
    return { kind: "List", span: this.span(tok(c, "LBracket")!.startOffset, end(tok(c, "RBracket")!)), elements };
  }

  private map(c: Children): A.MapLiteral {
    const entries: A.MapLiteral["entries"] = [];
    for (const e of (c.mapEntry ?? []) as CstNode[]) {
      const k = e.children;
      const keyTok = (tok(k, "AnyName") ?? tok(k, "StringLit"))!;
      const key = keyTok.tokenType === T.StringLit ? this.plainString(keyTok, "map key") ?? "" : keyTok.image;
      entries.push({ key, keySpan: this.span(keyTok.startOffset, end(keyTok)), value: this.expression(sub(k, "expression")!) });
    }
    return { kind: "Map", span: this.span(tok(c, "LCurly")!.startOffset, end(tok(c, "RCurly")!)), entries };
  }

  private wait(c: Children): A.Expr {
    const kw = tok(c, "Wait")!;
    const signal = this.postfix(sub(c, "postfix")!);
    const t = sub(c, "expression");
    const timeout = t ? this.expression(t) : undefined;
    const span = this.span(kw.startOffset, (timeout ?? signal).span.end.offset);
    if (signal.kind === "String") return { kind: "Wait", span, signal, timeout };
    if (signal.kind !== "ErrorExpr") this.issue(signal.span.start.offset, signal.span.end.offset, messages.plainStringOnly("signal name"));
    return { kind: "ErrorExpr", span };
  }

  // ---------------------------------------------------------------------------------------------
  // Strings

  protected stringLiteral(t: IToken): A.StringLiteral | A.TemplateString | A.ErrorExpr {
    const scan = t.payload as StringScan;
    const start = t.startOffset;
    const stop = end(t);
    const text = this.ctx.lines.text;
    const triple = text.startsWith('"""', start);
    if (!scan.terminated) {
      this.issue(start, stop, triple ? messages.unterminatedTripleString() : messages.unterminatedString());
    }
    const d = decodeString(text, start, stop, scan.terminated);
    for (const at of d.badEscapes) this.issue(at, Math.min(at + 2, stop), messages.badEscape(text.slice(at, at + 2)));
    for (const at of d.unterminatedInterpolations) if (scan.terminated) this.issue(at, at + 2, messages.unterminatedInterpolation());
    for (const at of d.emptyInterpolations) this.issue(at, at + 2, messages.emptyInterpolation());
    const span = this.span(start, stop);
    if (d.pieces.length === 1 && typeof d.pieces[0] === "string") return { kind: "String", span, value: d.pieces[0] };
    const parts = d.pieces.map((p) => (typeof p === "string" ? p : this.interpolation(p.start, p.end)));
    return { kind: "Template", span, parts };
  }

  /** Parses the expression inside `${ }` at file offsets start..end. */
  private interpolation(start: number, stop: number): A.Expr {
    const lines = this.ctx.lines;
    const lexed = lex(lines.text.slice(start, stop), start);
    for (const e of lexed.errors) {
      this.issue(e.offset, e.offset + e.length, messages.unexpectedCharacter(lines.text.slice(e.offset, e.offset + e.length)));
    }
    const laid = layout(lexed.tokens, lines, true);
    this.ctx.issues.push(...laid.issues);
    if (laid.tooDeep || lexed.errors.length > 0 || laid.issues.length > 0) return { kind: "ErrorExpr", span: this.span(start, stop) };
    parser.input = laid.tokens;
    parser.issues = [];
    const cst = parser.interpolation();
    const errors = parser.errors;
    if (errors.length > 0 || parser.issues.length > 0) {
      this.ctx.issues.push(...parser.issues);
      for (const e of errors) {
        const at = Number.isNaN(e.token.startOffset) ? stop : e.token.startOffset;
        this.issue(at, Number.isNaN(e.token.startOffset) ? stop : end(e.token), splitParserMessage(e.message));
      }
      return { kind: "ErrorExpr", span: this.span(start, stop) };
    }
    return this.expression(sub(cst.children, "expression")!);
  }
}
