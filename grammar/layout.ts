// The layout pass between lexer and parser: decides which line breaks end statements, balances
// brackets, and refuses nesting too deep for a recursive-descent parser.
//
// Which newlines count (the rule authors see, also in docs/language.md):
// - Inside `( )`, `[ ]`, a map or record `{ }` and `${ }`, line breaks are ignored, so calls,
//   lists and maps may span lines freely.
// - Inside a block `{ }` (and at the top level) a line break ends the statement, except right
//   after a token that cannot end one (a binary operator, `not`, `=`, `+=`, `-=`, `,`, `.`,
//   `?.`, `->`, `:`, `{`), or right before a token that cannot start one (a binary operator
//   other than `-`, `.`, `?.`, and `else`, `catch`, `finally`).
// - A `{` opens a block when it follows what can end an expression or header (a name, a
//   literal, `)`, `]`, `}`, `>` or `?` of a type, `else`, `try`, `finally`, `retry`, `catch`),
//   also across a line break (Allman style); after anything else (`=`, `(`, `,`, `:`, an
//   operator, `return`, ...) it opens a map literal or a record type.
//
// Brackets: a closer that does not match is dropped with a diagnostic; brackets left open are
// closed with zero-width virtual tokens (with a diagnostic naming where they were opened), at
// the first statement keyword met inside them, at the `}` of the enclosing block, or at the end
// of the file. The parser therefore always sees balanced brackets, which keeps one missing `)`
// from turning the rest of the file into errors.
import type { IToken, TokenType } from "chevrotain";
import { createTokenInstance } from "./chevrotain.js";
import { messages, type SyntaxIssue, type SyntaxMessage } from "./messages.js";
import type { LineMap } from "./positions.js";
import type { StringScan } from "./strings.js";
import * as T from "./tokens.js";
import { CONTEXTUAL, isKeyword, RESERVED, reservedAsName, startsStatementInBrackets } from "./contextual.js";

/** Deepest bracket/block/string nesting the parser accepts. */
export const MAX_NESTING = 200;

type FrameKind = "paren" | "bracket" | "map" | "block";

interface Frame {
  kind: FrameKind;
  open: IToken;
  /** The parameter list of a `runbook` header. */
  header?: boolean;
}

export interface LayoutResult {
  tokens: IToken[];
  issues: SyntaxIssue[];
  /** Blocks still open at the end of the input (each reported). */
  openBlocksAtEnd: number;
  /**
   * Index (in the input) of the first line start or `}` less indented than the line opening its
   * block: where a missing `}` most likely belongs.
   */
  misindentedClose?: number;
  /** Deepest nesting of brackets, blocks and strings seen (≤ MAX_NESTING unless tooDeep). */
  maxDepth: number;
  /** Set when nesting exceeds MAX_NESTING; `tokens` is then empty and must not be parsed. */
  tooDeep: boolean;
}

const CLOSER: Record<FrameKind, TokenType> = { paren: T.RParen, bracket: T.RBracket, map: T.RCurly, block: T.RCurly };
const CLOSER_TEXT: Record<FrameKind, string> = { paren: ")", bracket: "]", map: "}", block: "}" };
const WHAT: Record<FrameKind, string> = { paren: "`(`", bracket: "`[`", map: "map", block: "block" };

/** After these a line break never ends a statement. */
const CONTINUES_AFTER = new Set<TokenType>([
  T.Plus, T.Minus, T.Star, T.Slash, T.Percent, T.EqEq, T.NotEq, T.Lt, T.LtEq, T.Gt, T.GtEq,
  T.DotDot, T.QuestionQuestion, T.And, T.Or, T.Not, T.Eq, T.PlusEq, T.MinusEq, T.Comma, T.Dot,
  T.QuestionDot, T.Arrow, T.Colon, T.LCurly, T.Newline, T.Semicolon,
]);
/** Before these a line break never ends a statement (they cannot start one). */
const CONTINUES_BEFORE = new Set<TokenType>([
  T.Plus, T.Star, T.Slash, T.Percent, T.EqEq, T.NotEq, T.Lt, T.LtEq, T.Gt, T.GtEq, T.DotDot,
  T.QuestionQuestion, T.And, T.Or, T.Dot, T.QuestionDot, T.Else, T.Catch, T.Finally,
]);
/** A `{` after one of these opens a block; after anything else, a map or record. */
const BLOCK_AFTER = new Set<TokenType>([
  T.Identifier, T.As, T.NumberLit, T.DurationLit, T.StringLit, T.True, T.False, T.Null, T.RParen,
  T.RBracket, T.RCurly, T.Gt, T.Question, T.Else, T.Try, T.Finally, T.Retry, T.Catch,
]);
/**
 * Reserved words that only start statements; met inside ( [ or a map, they mean a closer is
 * missing. (Contextual statement words do too, when first on their line: see `word`.)
 */
const STATEMENT_KEYWORDS = new Set<TokenType>([
  T.Let, T.If, T.While, T.For, T.Return, T.Try, T.Break, T.Continue, T.Use, T.Runbook,
]);
/** The words `word` looks at: reserved and contextual ones. */
const WORDS = new Set<TokenType>([...RESERVED, ...CONTEXTUAL]);

const FOREIGN: Record<string, [TokenType, string]> = { "&&": [T.And, "and"], "||": [T.Or, "or"], "!": [T.Not, "not"] };

/**
 * Lays out `tokens` (from `lex`). With `interpolation` the tokens are the inside of `${ }`,
 * where no line break counts.
 */
export function layout(tokens: IToken[], lines: LineMap, interpolation: boolean): LayoutResult {
  let best = new Layout(tokens, lines, interpolation, undefined).run();
  if (best.openBlocksAtEnd === 0 || interpolation) return best;
  // A block left open at the end of the file: its `}` is most likely missing where the first
  // line (or `}`) less indented than the line that opened the block is. Lay out again with a
  // `}` assumed there, and keep that reading if it leaves fewer blocks open (a few rounds at
  // most). Only broken files pay for looking at indentation.
  const forced = new Set<number>();
  best = new Layout(tokens, lines, interpolation, forced).run();
  for (let round = 0; round < 3 && best.openBlocksAtEnd > 0 && best.misindentedClose !== undefined; round++) {
    forced.add(best.misindentedClose);
    const next = new Layout(tokens, lines, interpolation, new Set(forced)).run();
    if (next.openBlocksAtEnd >= best.openBlocksAtEnd) break;
    best = next;
  }
  return best;
}

// A class rather than closures: layout runs once per file and once per interpolation.
class Layout {
  private readonly out: IToken[] = [];
  private readonly stack: Frame[] = [];
  private readonly issues: SyntaxIssue[] = [];
  private maxDepth = 0;
  private keywordRun = 0;

  constructor(
    private readonly tokens: IToken[],
    private readonly lines: LineMap,
    private readonly interpolation: boolean,
    /**
     * Undefined: ignore indentation. Otherwise note where a `}` is likely missing, and close the
     * blocks left open before these input indices (line starts and `}`s).
     */
    private readonly forceCloseBefore: Set<number> | undefined,
  ) {}

  private misindentedClose: number | undefined;

  run(): LayoutResult {
    const { tokens, out, stack } = this;
    for (let i = 0; i < tokens.length; i++) {
      let tok = tokens[i];
      let type = tok.tokenType;
      if (type === T.Newline) {
        if (this.significant() && out.length > 0 && !CONTINUES_AFTER.has(out[out.length - 1].tokenType)) out.push(tok);
        continue;
      }
      if (CONTINUES_BEFORE.has(type) && this.lastType() === T.Newline && this.significant()) out.pop();
      else if (this.forceCloseBefore !== undefined && type !== T.RCurly && i > 0 && tokens[i - 1].tokenType === T.Newline) this.checkLineStart(i);
      if (WORDS.has(type)) {
        tok = this.word(i);
        type = tok.tokenType;
      }

      // `await await ... x` recurses in the parser like brackets do: count such runs as nesting.
      if (type === T.Await || type === T.Start || type === T.Wait) this.keywordRun++;
      else this.keywordRun = 0;
      const extra = type === T.StringLit ? ((tok.payload as StringScan | undefined)?.depth ?? 1) : this.keywordRun;
      if (stack.length + extra > this.maxDepth) this.maxDepth = stack.length + extra;
      if (stack.length + extra > MAX_NESTING) {
        this.issueAt(tok.startOffset, tokenEnd(tok), messages.tooDeep(MAX_NESTING));
        return { tokens: [], issues: this.issues, maxDepth: stack.length + extra, tooDeep: true, openBlocksAtEnd: 0 };
      }

      switch (type) {
        case T.LParen: {
          const n = out.length;
          const header = n >= 2 && out[n - 1].tokenType === T.Identifier && out[n - 2].tokenType === T.Runbook;
          stack.push({ kind: "paren", open: tok, header });
          break;
        }
        case T.LBracket:
          stack.push({ kind: "bracket", open: tok });
          break;
        case T.LCurly: {
          // Allman style, `if x` then `{` on the next line: the line break does not count.
          if (this.lastType() === T.Newline && this.significant() && out.length >= 2 && BLOCK_AFTER.has(out[out.length - 2].tokenType)) {
            out.pop();
          }
          const prev = this.lastType();
          // `runbook f(a: string {` + line break: the `)` is missing, and this is the body.
          const top = stack[stack.length - 1];
          if (top?.header && tokens[i + 1]?.tokenType === T.Newline && prev !== T.Colon && prev !== T.Eq && prev !== T.Lt) {
            this.closeUnclosed(tok.startOffset);
            stack.push({ kind: "block", open: tok });
            break;
          }
          stack.push({ kind: prev !== undefined && BLOCK_AFTER.has(prev) ? "block" : "map", open: tok });
          break;
        }
        case T.RParen:
        case T.RBracket:
        case T.RCurly: {
          const d = findMatching(stack, type);
          if (d < 0) {
            const close = tok.image;
            const f = stack[stack.length - 1];
            if (f === undefined || f.kind === "block") {
              this.issueAt(tok.startOffset, tok.startOffset + 1, messages.unmatchedClose(close));
              continue; // drop it
            }
            // `f(1]`: most likely a typo for the closer the open bracket wants; read it as that.
            const p = this.lines.position(f.open.startOffset);
            this.issueAt(tok.startOffset, tok.startOffset + 1, messages.mismatchedClose(close, f.open.image, CLOSER_TEXT[f.kind], p.line, p.column));
            stack.pop();
            out.push(virtual(CLOSER[f.kind], tok.startOffset, "`" + close + "`", true));
            continue;
          }
          // Frames above the match were left open: close them here.
          let k = stack.length - 1 - d;
          while (stack.length - 1 > k) this.closeUnclosed(tok.startOffset);
          if (this.forceCloseBefore !== undefined && type === T.RCurly && stack[k].kind === "block") k = this.checkIndentation(i, k);
          const f = stack.pop()!;
          if (f.kind === "block" && !endsStatement(this.lastType())) out.push(virtual(T.Newline, tok.startOffset, "`}`", false));
          break;
        }
        case T.ForeignOp: {
          const [replacement, word] = FOREIGN[tok.image] ?? [T.And, "and"];
          this.issueAt(tok.startOffset, tokenEnd(tok), messages.foreignOperator(tok.image, word));
          // A copy: the input may be laid out again.
          out.push({ ...tok, tokenType: replacement, tokenTypeIdx: replacement.tokenTypeIdx! });
          continue;
        }
        default:
          if (!this.interpolation && STATEMENT_KEYWORDS.has(type) && stack.length > 0 && stack[stack.length - 1].kind !== "block") {
            const next = tokens[i + 1]?.tokenType;
            const prev = this.lastType();
            // `len(parallel for ...)`: that `for` starts no statement; the checker says to bind it
            // with `let` first (RB2022), as for any suspending expression in a larger one.
            if (next !== T.Colon && prev !== T.Dot && prev !== T.QuestionDot && prev !== T.Parallel) this.closeBrackets(tok);
          }
      }
      out.push(tok);
    }
    // Report what is left open after the last token rather than at the very end of the file,
    // so that the caret sits on a line with code.
    let end = this.lines.text.length;
    for (let j = out.length - 1; j >= 0; j--) {
      if (out[j].image.length > 0 && out[j].tokenType !== T.Newline) {
        end = tokenEnd(out[j]);
        break;
      }
    }
    const openBlocksAtEnd = stack.filter((f) => f.kind === "block").length;
    while (stack.length > 0) this.closeUnclosed(end);
    return { tokens: out, issues: this.issues, maxDepth: this.maxDepth, tooDeep: false, openBlocksAtEnd, misindentedClose: this.misindentedClose };
  }

  /**
   * The `}` at input index `i` closes the block frame `k`. Notes the first `}` (first on its
   * line) less indented than its block's opening line; when told to (a second layout round),
   * closes such blocks as unclosed right before it instead and returns the frame it closes.
   */
  private checkIndentation(i: number, k: number): number {
    const close = this.tokens[i];
    const at = this.lines.indentation(close.startOffset);
    if (!at.first) return k;
    const openerIndent = (f: Frame) => this.lines.indentation(f.open.startOffset).indent;
    if (openerIndent(this.stack[k]) <= at.indent) return k;
    if (this.forceCloseBefore!.has(i)) {
      const before = this.lastRealEnd();
      while (k > 0 && this.stack[k - 1].kind === "block" && openerIndent(this.stack[k]) > at.indent) {
        this.closeUnclosed(before);
        k--;
      }
      return k;
    }
    if (this.misindentedClose === undefined) this.misindentedClose = i;
    return k;
  }

  /**
   * The token at input index `i` starts a line. Notes the first line start that is not indented
   * deeper than the line opening the block it is in; when told to (a second layout round),
   * closes such blocks as unclosed right before it.
   */
  private checkLineStart(i: number): void {
    const stack = this.stack;
    const top = stack[stack.length - 1];
    if (top === undefined || top.kind !== "block" || stack.length < 2) return;
    const indent = this.lines.indentation(this.tokens[i].startOffset).indent;
    const openerIndent = (f: Frame) => this.lines.indentation(f.open.startOffset).indent;
    if (openerIndent(top) < indent) return;
    if (this.forceCloseBefore!.has(i)) {
      const before = this.lastRealEnd();
      while (stack.length >= 2 && stack[stack.length - 1].kind === "block" && stack[stack.length - 2].kind === "block" && openerIndent(stack[stack.length - 1]) >= indent) {
        this.closeUnclosed(before);
      }
      if (!endsStatement(this.lastType())) this.out.push(virtual(T.Newline, before, "end of line", true));
    } else if (this.misindentedClose === undefined) this.misindentedClose = i;
  }

  /**
   * The reserved or contextual word at input index `i`, as the parser is to see it: a contextual
   * word read as a name, and a reserved word standing where only a name can (reported), become an
   * Identifier (grammar/contextual.ts has the rule).
   */
  private word(i: number): IToken {
    const tok = this.tokens[i];
    const type = tok.tokenType;
    if (!this.interpolation && this.tokens[i - 1]?.tokenType === T.Newline && !this.significant()) {
      const prev = this.lastType();
      if (prev !== T.Dot && prev !== T.QuestionDot && startsStatementInBrackets(type, this.peek(i))) this.closeBrackets(tok);
    }
    const prev = this.lastType();
    const statementStart = this.significant() && endsStatement(prev);
    if (RESERVED.has(type)) {
      const out = this.out;
      const top = this.stack[this.stack.length - 1];
      const asName = reservedAsName({
        word: type,
        prev,
        beforePrev: out[out.length - 2]?.tokenType,
        next: this.peek(i),
        statementStart,
        inHeader: top?.header === true,
      });
      if (!asName) return tok;
      this.issueAt(tok.startOffset, tokenEnd(tok), messages.reservedWord(tok.image));
      return asIdentifier(tok);
    }
    const keyword = isKeyword({ word: type, prev, next: this.peek(i), statementStart, assigns: () => this.assigns(i) });
    return keyword ? tok : asIdentifier(tok);
  }

  /** The type of the token after input index `i`, skipping line breaks that do not end a statement. */
  private peek(i: number): TokenType | undefined {
    const tokens = this.tokens;
    const significant = this.significant();
    let j = i + 1;
    while (tokens[j]?.tokenType === T.Newline && (!significant || CONTINUES_BEFORE.has(tokens[j + 1]?.tokenType))) j++;
    return tokens[j]?.tokenType;
  }

  /** Whether the statement starting at input index `i` has `=`, `+=` or `-=` outside brackets. */
  private assigns(i: number): boolean {
    const tokens = this.tokens;
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j++) {
      const t = tokens[j].tokenType;
      if (t === T.LParen || t === T.LBracket || t === T.LCurly) depth++;
      else if (t === T.RParen || t === T.RBracket || t === T.RCurly) {
        if (--depth < 0) return false;
      } else if (depth === 0) {
        if (t === T.Eq || t === T.PlusEq || t === T.MinusEq) return true;
        if (t === T.Semicolon) return false;
        if (t === T.Newline && !CONTINUES_AFTER.has(tokens[j - 1].tokenType) && !CONTINUES_BEFORE.has(tokens[j + 1]?.tokenType)) return false;
      }
    }
    return false;
  }

  /** A statement keyword met inside ( [ or a map: close them, as their closers are missing. */
  private closeBrackets(tok: IToken): void {
    const { out, stack } = this;
    const at = out.length > 0 ? tokenEnd(out[out.length - 1]) : tok.startOffset;
    while (stack.length > 0 && stack[stack.length - 1].kind !== "block") this.closeUnclosed(at);
    if (!endsStatement(this.lastType())) out.push(virtual(T.Newline, at, "end of line", true));
  }

  /** Offset just past the last real (not made-up) token laid out so far. */
  private lastRealEnd(): number {
    for (let j = this.out.length - 1; j >= 0; j--) {
      const t = this.out[j];
      if (t.image.length > 0 && t.tokenType !== T.Newline) return tokenEnd(t);
    }
    return 0;
  }

  private issueAt(start: number, end: number, msg: SyntaxMessage): void {
    this.issues.push({ ...msg, start, end });
  }

  private lastType(): TokenType | undefined {
    return this.out[this.out.length - 1]?.tokenType;
  }

  private significant(): boolean {
    const stack = this.stack;
    return !this.interpolation && (stack.length === 0 || stack[stack.length - 1].kind === "block");
  }

  /** Closes the top frame with a virtual closer at `at` and reports it as unclosed. */
  private closeUnclosed(at: number): void {
    const f = this.stack.pop()!;
    const p = this.lines.position(f.open.startOffset);
    this.issueAt(at, at, messages.unclosed(CLOSER_TEXT[f.kind], WHAT[f.kind], p.line, p.column));
    if (f.kind === "block" && !endsStatement(this.lastType())) this.out.push(virtual(T.Newline, at, "end of line", true));
    this.out.push(virtual(CLOSER[f.kind], at, "`" + CLOSER_TEXT[f.kind] + "`", true));
  }
}

/** What the layout adds to a token it makes up. */
export interface VirtualToken extends IToken {
  /** How a diagnostic names it ("`}`", "end of line"). */
  shownAs: string;
  /** Made up to recover from an error already reported: errors found at it are not news. */
  recovery: boolean;
}

/** A copy of `tok` read as a name (a copy: the input may be laid out again). */
function asIdentifier(tok: IToken): IToken {
  return { ...tok, tokenType: T.Identifier, tokenTypeIdx: T.Identifier.tokenTypeIdx! };
}

/** A zero-width token the layout inserts (a closer that was missing, or a statement end). */
function virtual(type: TokenType, at: number, shownAs: string, recovery: boolean): IToken {
  const t = createTokenInstance(type, "", at, at - 1, NaN, NaN, NaN, NaN) as VirtualToken;
  t.shownAs = shownAs;
  t.recovery = recovery;
  return t;
}

function endsStatement(t: TokenType | undefined): boolean {
  return t === undefined || t === T.Newline || t === T.Semicolon || t === T.LCurly;
}

/**
 * Index (from the top, 0 = top) of the nearest open frame that `closer` closes, or -1. Only
 * blocks stop the search for `)` and `]`: a `)` never closes anything outside its block.
 */
function findMatching(stack: Frame[], closer: TokenType): number {
  for (let d = 0; d < stack.length; d++) {
    const f = stack[stack.length - 1 - d];
    if (CLOSER[f.kind] === closer) return d;
    if (f.kind === "block" && closer !== T.RCurly) return -1;
  }
  return -1;
}

/** Offset just past a token (tokens carry start offsets only; virtual ones are empty). */
function tokenEnd(t: IToken): number {
  return t.startOffset + t.image.length;
}
