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
import { createTokenInstance, type IToken, type TokenType } from "chevrotain";
import { messages, type SyntaxIssue, type SyntaxMessage } from "./messages.js";
import type { LineMap } from "./positions.js";
import type { StringScan } from "./strings.js";
import * as T from "./tokens.js";

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
/** Keywords that only start statements; met inside ( [ or a map, they mean a closer is missing. */
const STATEMENT_KEYWORDS = new Set<TokenType>([
  T.Let, T.If, T.While, T.For, T.Return, T.Checkpoint, T.Sleep, T.Suspend, T.Fail, T.Try,
  T.Retry, T.Break, T.Continue, T.Output, T.Log, T.Warn, T.ErrorKw, T.Use, T.Runbook,
]);

const FOREIGN: Record<string, [TokenType, string]> = { "&&": [T.And, "and"], "||": [T.Or, "or"], "!": [T.Not, "not"] };

/**
 * Lays out `tokens` (from `lex`). With `interpolation` the tokens are the inside of `${ }`,
 * where no line break counts.
 */
export function layout(tokens: IToken[], lines: LineMap, interpolation: boolean): LayoutResult {
  return new Layout(tokens, lines, interpolation).run();
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
  ) {}

  run(): LayoutResult {
    const { tokens, out, stack } = this;
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i];
      const type = tok.tokenType;
      if (type === T.Newline) {
        if (this.significant() && out.length > 0 && !CONTINUES_AFTER.has(out[out.length - 1].tokenType)) out.push(tok);
        continue;
      }
      if (CONTINUES_BEFORE.has(type) && this.lastType() === T.Newline && this.significant()) out.pop();

      // `await await ... x` recurses in the parser like brackets do: count such runs as nesting.
      if (type === T.Await || type === T.Start || type === T.Wait) this.keywordRun++;
      else this.keywordRun = 0;
      const extra = type === T.StringLit ? ((tok.payload as StringScan | undefined)?.depth ?? 1) : this.keywordRun;
      if (stack.length + extra > this.maxDepth) this.maxDepth = stack.length + extra;
      if (stack.length + extra > MAX_NESTING) {
        this.issueAt(tok.startOffset, tokenEnd(tok), messages.tooDeep(MAX_NESTING));
        return { tokens: [], issues: this.issues, maxDepth: stack.length + extra, tooDeep: true };
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
          const k = stack.length - 1 - d;
          while (stack.length - 1 > k) this.closeUnclosed(tok.startOffset);
          const f = stack.pop()!;
          if (f.kind === "block" && !endsStatement(this.lastType())) out.push(virtual(T.Newline, tok.startOffset, "`}`", false));
          break;
        }
        case T.ForeignOp: {
          const [replacement, word] = FOREIGN[tok.image] ?? [T.And, "and"];
          this.issueAt(tok.startOffset, tokenEnd(tok), messages.foreignOperator(tok.image, word));
          tok.tokenType = replacement;
          tok.tokenTypeIdx = replacement.tokenTypeIdx!;
          break;
        }
        default:
          if (!this.interpolation && STATEMENT_KEYWORDS.has(type) && stack.length > 0 && stack[stack.length - 1].kind !== "block") {
            const next = tokens[i + 1]?.tokenType;
            const prev = this.lastType();
            if (next !== T.Colon && prev !== T.Dot && prev !== T.QuestionDot) {
              const at = out.length > 0 ? tokenEnd(out[out.length - 1]) : tok.startOffset;
              while (stack.length > 0 && stack[stack.length - 1].kind !== "block") this.closeUnclosed(at);
              if (!endsStatement(this.lastType())) out.push(virtual(T.Newline, at, "end of line", true));
            }
          }
      }
      out.push(tok);
    }
    const end = this.lines.text.length;
    while (stack.length > 0) this.closeUnclosed(end);
    return { tokens: out, issues: this.issues, maxDepth: this.maxDepth, tooDeep: false };
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
