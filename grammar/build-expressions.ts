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
  /**
   * The longest chain the builder made without brackets (operators in one expression, prefix
   * or postfix operators on one operand, `else if`s): with the bracket depth it bounds the
   * tree's depth, so the exact depth walk (depth.ts) is needed only for extreme input.
   */
  maxChain: number;
}

type Children = CstNode["children"];

const tok = (c: Children, key: string, i = 0): IToken | undefined => c[key]?.[i] as IToken | undefined;
const sub = (c: Children, key: string, i = 0): CstNode | undefined => c[key]?.[i] as CstNode | undefined;
const end = (t: IToken): number => t.startOffset + t.image.length;

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The key of the first token of each kind of sub-node an expression node holds. */
const FIRST_TOKEN: Record<string, string[]> = {
  postfixOp: ["Dot", "QuestionDot", "LBracket", "LParen"],
  listLit: ["LBracket"],
  mapLit: ["LCurly"],
  waitExpr: ["Wait"],
  startExpr: ["Start"],
  awaitExpr: ["Await"],
  parallelExpr: ["Parallel"],
};

/** The options of `parallel for ... in e (limit: n, on_error: "stop") { }`. */
const PARALLEL_OPTIONS = new Set(["limit", "on_error"]);

/**
 * Takes `parallel for`'s options off its iterable: the trailing call of its rightmost operand
 * (`xs (limit: 2)`, `1..n (limit: 2)`), when every argument is a named option.
 */
function takeOptions(e: A.Expr): { iterable: A.Expr; options?: A.Argument[] } {
  if (e.kind === "Call" && e.args.length > 0 && e.args.every((a) => a.name && PARALLEL_OPTIONS.has(a.name.name))) return { iterable: e.callee, options: e.args };
  if (e.kind === "Binary") {
    const right = takeOptions(e.right);
    if (right.options) return { iterable: { ...e, right: right.iterable, span: { ...e.span, end: right.iterable.span.end } }, options: right.options };
  }
  return { iterable: e };
}

/**
 * Splits an expression node's children into one children object per operand, by offset: the
 * operand of an element is the number of operators before it. A parenthesized `( e )` keeps
 * its inner expression under `expression`, parallel to its `LParen` (the only ones in the node).
 */
function splitOperands(c: Children, ops: IToken[]): Children[] {
  const parts: Children[] = [];
  for (let i = 0; i <= ops.length; i++) parts.push({});
  for (const key in c) {
    if (key === "BinaryOp") continue;
    const arr = c[key];
    let idx = 0;
    for (let i = 0; i < arr.length; i++) {
      const at = elementOffset(c, key, i);
      while (idx < ops.length && ops[idx].startOffset < at) idx++;
      (parts[idx][key] ??= []).push(arr[i]);
    }
  }
  return parts;
}

function elementOffset(c: Children, key: string, i: number): number {
  const el = c[key][i];
  if ((el as CstNode).children === undefined) return (el as IToken).startOffset;
  if (key === "expression") return (c.LParen[i] as IToken).startOffset;
  const k = (el as CstNode).children;
  for (const first of FIRST_TOKEN[key] ?? []) {
    const t = k[first]?.[0] as IToken | undefined;
    if (t !== undefined) return t.startOffset;
  }
  return 0;
}

const KEYWORDS = new Set(
  T.allTokens.filter((t) => t.CATEGORIES?.includes(T.AnyName) && t !== T.Identifier && t !== T.As).map((t) => String(t.PATTERN).slice(1, -1)),
);
const isSpace = (c: number) => c === 32 || c === 9;
const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isNamePart = (c: number) => isNameStart(c) || (c >= 48 && c <= 57);

/** An interpolation `${ }` that needs the parser, met while the parser was busy: parsed later. */
export interface DeferredInterpolation {
  parts: A.TemplateString["parts"];
  index: number;
  start: number;
  end: number;
}

export class ExpressionBuilder {
  constructor(protected readonly ctx: BuildContext) {}

  /**
   * While the parser runs (statements built as they parse, build.ts `prebuild`), interpolations
   * that need a parse of their own wait here with a placeholder; `parseDeferred` parses them.
   */
  protected deferred: DeferredInterpolation[] = [];
  protected parserBusy = false;

  /** Parses the interpolations left for later, in place. */
  protected parseDeferred(): void {
    const deferred = this.deferred;
    this.deferred = [];
    for (const d of deferred) d.parts[d.index] = this.interpolation(d.start, d.end);
  }

  protected span(start: number, endOffset: number): A.Span {
    return this.ctx.lines.span(start, endOffset);
  }

  protected issue(start: number, endOffset: number, msg: SyntaxMessage): void {
    this.ctx.issues.push({ ...msg, start, end: Math.max(start, endOffset) });
  }

  /** A `{ }` block (statements are built by build.ts; an expression holds one in `parallel for`). */
  protected block(cst: CstNode): A.Block {
    const c = cst.children;
    return { kind: "Block", span: this.span(tok(c, "LCurly")!.startOffset, end(tok(c, "RCurly")!)), statements: [] };
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
    const opTokens = c.BinaryOp as IToken[] | undefined;
    if (opTokens === undefined) {
      const only = this.operand(c);
      if (only.nots.length === 0) return only.expr;
      return applyPrecedence([only], [], this.ctx.lines, this.ctx.issues);
    }
    if (opTokens.length > this.ctx.maxChain) this.ctx.maxChain = opTokens.length;
    const operands = splitOperands(c, opTokens).map((part) => this.operand(part));
    const ops: OperatorToken[] = opTokens.map((t) => ({
      // By type, not image: `&&` and `||` were reported and stand for `and` and `or`.
      operator: t.tokenType === T.And ? "and" : t.tokenType === T.Or ? "or" : (t.image as A.BinaryOperator),
      start: t.startOffset,
      end: end(t),
    }));
    return applyPrecedence(operands, ops, this.ctx.lines, this.ctx.issues);
  }

  /** One operand's children: `not`s, `-`s, the primary and postfix operators. */
  private operand(c: Children): Operand {
    let expr = this.postfix(c);
    const minus = (c.Minus ?? []) as IToken[];
    const prefixes = minus.length + (c.Not?.length ?? 0);
    if (prefixes > this.ctx.maxChain) this.ctx.maxChain = prefixes;
    for (let i = minus.length - 1; i >= 0; i--) {
      const span = { file: expr.span.file, start: this.ctx.lines.position(minus[i].startOffset), end: expr.span.end };
      // `-` directly on a number literal folds into the literal (so `-1e3` is a Number).
      if (expr.kind === "Number" && i === minus.length - 1) expr = { kind: "Number", span, value: -expr.value };
      else expr = { kind: "Unary", span, operator: "-", operand: expr };
    }
    return { nots: ((c.Not ?? []) as IToken[]).map((t) => t.startOffset), expr };
  }

  /** The primary and postfix operators in `c` (an operand's or a postfix rule's children). */
  private postfix(c: Children): A.Expr {
    let expr = this.primary(c);
    const ops = (c.postfixOp ?? []) as CstNode[];
    if (ops.length > this.ctx.maxChain) this.ctx.maxChain = ops.length;
    for (const opCst of ops) expr = this.postfixOp(expr, opCst.children);
    return expr;
  }

  private postfixOp(object: A.Expr, c: Children): A.Expr {
    const start = object.span.start.offset;
    if (c.Dot !== undefined || c.QuestionDot !== undefined) {
      const name = tok(c, "AnyName")!;
      const optional = c.QuestionDot !== undefined;
      return { kind: "Member", span: this.span(start, end(name)), object, property: this.ident(name), optional };
    }
    if (c.LBracket !== undefined) {
      return { kind: "Index", span: this.span(start, end(tok(c, "RBracket")!)), object, index: this.expression(sub(c, "expression")!) };
    }
    // A call.
    const span = this.span(start, end(tok(c, "RParen")!));
    const args = this.arguments(c);
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

  /** A call's arguments: values, and names paired with the value that follows each. */
  private arguments(c: Children): A.Argument[] {
    const values = (c.expression ?? []) as CstNode[];
    const names = (c.AnyName ?? []) as IToken[];
    const args: A.Argument[] = [];
    let n = 0;
    for (const v of values) {
      const value = this.expression(v);
      const nameTok = n < names.length && names[n].startOffset < value.span.start.offset ? names[n++] : undefined;
      if (nameTok === undefined) args.push({ span: value.span, name: undefined, value });
      else {
        const name = this.ident(nameTok);
        args.push({ span: { file: value.span.file, start: name.span.start, end: value.span.end }, name, value });
      }
    }
    return args;
  }

  /** The primary among `c` (an operand's or a postfix rule's children). */
  private primary(c: Children): A.Expr {
    // One pass over the keys present (plain objects: for-in is cheap, missing-key probes are not).
    for (const key in c) {
      switch (key) {
        case "Identifier": {
          const t = c[key][0] as IToken;
          return { kind: "Name", span: this.span(t.startOffset, end(t)), name: t.image };
        }
        case "StringLit":
          return this.stringLiteral(c[key][0] as IToken);
        case "NumberLit": {
          const t = c[key][0] as IToken;
          const value = Number(t.image);
          if (!Number.isFinite(value)) this.issue(t.startOffset, end(t), messages.numberTooLarge());
          return { kind: "Number", span: this.span(t.startOffset, end(t)), value: Number.isFinite(value) ? value : 0 };
        }
        case "DurationLit": {
          const t = c[key][0] as IToken;
          let ms = 0;
          for (const m of t.image.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
          return { kind: "Duration", span: this.span(t.startOffset, end(t)), milliseconds: ms };
        }
        case "True":
        case "False": {
          const t = c[key][0] as IToken;
          return { kind: "Bool", span: this.span(t.startOffset, end(t)), value: key === "True" };
        }
        case "Null": {
          const t = c[key][0] as IToken;
          return { kind: "Null", span: this.span(t.startOffset, end(t)) };
        }
        case "expression": // ( e ): the parentheses leave no trace but the tree's shape
          return this.expression(c[key][0] as CstNode);
        case "listLit":
          return this.list((c[key][0] as CstNode).children);
        case "mapLit":
          return this.map((c[key][0] as CstNode).children);
        case "waitExpr":
          return this.wait((c[key][0] as CstNode).children);
        case "startExpr": {
          const k = (c[key][0] as CstNode).children;
          const kw = tok(k, "Start")!;
          const call = this.postfix(sub(k, "postfix")!.children);
          const span = this.span(kw.startOffset, call.span.end.offset);
          if (call.kind === "Call") return { kind: "Start", span, call };
          if (call.kind !== "ErrorExpr") this.issue(call.span.start.offset, call.span.end.offset, messages.startNeedsCall());
          return { kind: "ErrorExpr", span };
        }
        case "awaitExpr": {
          const k = (c[key][0] as CstNode).children;
          const kw = tok(k, "Await")!;
          const job = this.postfix(sub(k, "postfix")!.children);
          return { kind: "Await", span: this.span(kw.startOffset, job.span.end.offset), job };
        }
        case "parallelExpr":
          return this.parallel((c[key][0] as CstNode).children);
      }
    }
    // Unreachable for a CST that parsed; stay total anyway.
    return { kind: "ErrorExpr", span: this.span(0, 0) };
  }

  /**
   * `parallel for`. Its options `(limit: n, on_error: "stop")` follow the iterable, so they
   * parse as a call on it: a trailing call whose arguments are all named options is taken off
   * as the options (documented in docs/language.md).
   */
  private parallel(c: Children): A.Expr {
    const kw = tok(c, "Parallel")!;
    const ids = (c.Identifier as IToken[]).map((t) => this.ident(t));
    const { iterable, options } = takeOptions(this.expression(sub(c, "expression")!));
    let limit: A.Expr | undefined;
    let onError: A.StringLiteral | undefined;
    if (options) {
      for (const a of options) {
        const name = a.name!;
        if ((name.name === "limit" ? limit : onError) !== undefined) {
          this.issue(name.span.start.offset, name.span.end.offset, messages.duplicateParallelOption(name.name));
        } else if (name.name === "limit") limit = a.value;
        else if (a.value.kind === "String" && (a.value.value === "stop" || a.value.value === "continue")) onError = a.value;
        else this.issue(a.value.span.start.offset, a.value.span.end.offset, messages.badOnError());
      }
    }
    const body = this.block(sub(c, "block")!);
    return {
      kind: "Parallel",
      span: this.span(kw.startOffset, body.span.end.offset),
      names: ids.length > 1 ? [ids[0], ids[1]] : [ids[0]],
      iterable,
      limit,
      onError,
      body,
    };
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
    const signal = this.postfix(sub(c, "postfix")!.children);
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
    // Most strings are plain "text": no escapes, no `${`, no line breaks. Take them as they are.
    const image = t.image;
    if (scan.terminated && scan.depth === 1 && image.length >= 2 && image.charCodeAt(1) !== 34 && image.indexOf("\\") < 0) {
      return { kind: "String", span: this.span(start, stop), value: image.slice(1, -1) };
    }
    // An unterminated string was reported with the lexer's output (parse.ts), wherever it is.
    const d = decodeString(text, start, stop, scan.terminated);
    for (const at of d.badEscapes) this.issue(at, Math.min(at + 2, stop), messages.badEscape(text.slice(at, at + 2)));
    for (const at of d.emptyInterpolations) this.issue(at, at + 2, messages.emptyInterpolation());
    const span = this.span(start, stop);
    if (d.pieces.length === 1 && typeof d.pieces[0] === "string") return { kind: "String", span, value: d.pieces[0] };
    const parts: A.TemplateString["parts"] = [];
    for (const p of d.pieces) {
      if (typeof p === "string") parts.push(p);
      else {
        const simple = this.simplePath(p.start, p.end);
        if (simple !== undefined) parts.push(simple);
        else if (!this.parserBusy) parts.push(this.interpolation(p.start, p.end));
        else {
          this.deferred.push({ parts, index: parts.length, start: p.start, end: p.end });
          parts.push({ kind: "ErrorExpr", span: this.span(p.start, p.end) });
        }
      }
    }
    return { kind: "Template", span, parts };
  }

  /**
   * The common interpolation `${name}` or `${a.b.c}`, read without the lexer and parser (a
   * full parse per interpolation costs more than the rest of the string). Undefined when the
   * text is anything else, including a keyword like `${null}`.
   */
  private simplePath(start: number, stop: number): A.Expr | undefined {
    const text = this.ctx.lines.text;
    let i = start;
    while (i < stop && isSpace(text.charCodeAt(i))) i++;
    let expr: A.Expr | undefined;
    for (;;) {
      const nameStart = i;
      if (i >= stop || !isNameStart(text.charCodeAt(i))) return undefined;
      while (i < stop && isNamePart(text.charCodeAt(i))) i++;
      const name = text.slice(nameStart, i);
      if (expr === undefined) {
        if (KEYWORDS.has(name)) return undefined;
        expr = { kind: "Name", span: this.span(nameStart, i), name };
      } else {
        const property: A.Identifier = { kind: "Identifier", span: this.span(nameStart, i), name };
        expr = { kind: "Member", span: { file: expr.span.file, start: expr.span.start, end: property.span.end }, object: expr, property, optional: false };
      }
      if (i < stop && text.charCodeAt(i) === 46 /* . */) {
        i++;
        continue;
      }
      while (i < stop && isSpace(text.charCodeAt(i))) i++;
      return i === stop ? expr : undefined;
    }
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
