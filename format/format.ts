// The formatter behind `runbook fmt`: one canonical layout (docs/fmt.md), computed from the
// token stream, never from the AST, so it cannot change meaning: it keeps every token, every
// line break and every comment, and only rewrites the whitespace between them (indentation,
// spaces between tokens on a line, runs of blank lines). It checks that promise on its own
// output: the formatted text must lex to the same tokens, else the file is left as it was.
import type { IToken, TokenType } from "chevrotain";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { lex } from "../grammar/lexer.js";
import { parse } from "../grammar/parse.js";
import * as T from "../grammar/tokens.js";

export type FormatResult =
  | { kind: "formatted"; text: string; changed: boolean }
  /** Syntax errors: the file is not touched. */
  | { kind: "invalid"; diagnostics: Diagnostic[] }
  /** The layout would have changed the tokens (a bug in the rules): the file is not touched. */
  | { kind: "refused"; reason: string };

const INDENT = "  ";

const OPENERS = new Set<TokenType>([T.LParen, T.LBracket, T.LCurly]);
const CLOSERS = new Set<TokenType>([T.RParen, T.RBracket, T.RCurly]);
/** Never a space before these. */
const TIGHT_BEFORE = new Set<TokenType>([T.Comma, T.Semicolon, T.RParen, T.RBracket, T.Colon, T.Dot, T.QuestionDot]);
/** Never a space after these. */
const TIGHT_AFTER = new Set<TokenType>([T.LParen, T.LBracket, T.Dot, T.QuestionDot]);
/** Always one space after these (unless the line ends). */
const SPACE_AFTER = new Set<TokenType>([T.Comma, T.Semicolon, T.Colon]);
/**
 * Always one space on both sides: operators that are only ever binary. `-` (also unary), `<`
 * and `>` (also type brackets), `?` and `..` keep the spacing they were written with.
 */
const SPACED = new Set<TokenType>([
  T.EqEq, T.NotEq, T.LtEq, T.GtEq, T.Eq, T.PlusEq, T.MinusEq, T.QuestionQuestion, T.Arrow, T.Star, T.Slash, T.Percent, T.Plus,
]);

export function format(file: string, text: string): FormatResult {
  const errors = parse(file, text).diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) return { kind: "invalid", diagnostics: errors };
  const out = layoutText(text);
  if (!sameTokens(text, out)) {
    // A bug in the rules below; never write a file whose tokens differ from the original.
    return { kind: "refused", reason: `formatting ${file} would change its tokens; left as it was (a bug in runbook fmt)` };
  }
  return { kind: "formatted", text: out, changed: out !== text };
}

/** A line of output under construction: its bracket depth and its pieces. */
interface Line {
  indent: number;
  text: string;
}

function layoutText(text: string): string {
  const tokens = lex(text).tokens;
  const lines: string[] = []; // finished lines; "" is a blank line
  /** Open brackets, each with the number of the output line it was opened on. */
  const open: number[] = [];
  let line: Line | undefined;
  let prev: IToken | undefined;
  let pendingBlank = false;

  const depth = () => new Set(open).size;
  const startLine = (closersFirst: number): Line => {
    if (pendingBlank && lines.length > 0 && !lines[lines.length - 1].trimEnd().endsWith("{") && closersFirst === 0) lines.push("");
    pendingBlank = false;
    return { indent: depth(), text: "" };
  };
  const endLine = () => {
    if (line !== undefined) lines.push(INDENT.repeat(line.indent) + line.text);
    line = undefined;
    prev = undefined;
  };
  const comment = (c: string) => {
    const l = startLine(0);
    lines.push(INDENT.repeat(l.indent) + c.trimEnd());
  };

  let pos = 0; // end of the previous token in `text`
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const gap = text.slice(pos, tok.startOffset);
    pos = tok.startOffset + tok.image.length;
    const trailing = commentIn(gap);
    if (trailing !== undefined) {
      if (line !== undefined) line.text += ` ${trailing}`;
      else comment(trailing); // a comment on the first line of the file
    }
    if (tok.tokenType === T.Newline) {
      endLine();
      // The token holds the line break and any blank or comment-only lines after it.
      const rest = tok.image.split(/\r\n|\r|\n/).slice(1, -1);
      for (const r of rest) {
        const c = r.trim();
        if (c === "") pendingBlank = true;
        else comment(c);
      }
      continue;
    }
    if (line === undefined) {
      // Closers at the start of a line close before the line's indentation is taken.
      let closers = 0;
      while (tokens[i + closers] !== undefined && CLOSERS.has(tokens[i + closers].tokenType)) closers++;
      const kept = open.slice(0, Math.max(0, open.length - closers));
      if (closers > 0) pendingBlank = false;
      line = startLine(closers);
      line.indent = new Set(kept).size;
    } else {
      line.text += space(prev!, tok, gap.length > 0);
    }
    line.text += tok.image;
    if (OPENERS.has(tok.tokenType)) open.push(lines.length);
    else if (CLOSERS.has(tok.tokenType)) open.pop();
    prev = tok;
  }
  const trailing = commentIn(text.slice(pos));
  if (trailing !== undefined) {
    if (line !== undefined) line.text += ` ${trailing}`;
    else comment(trailing);
  }
  endLine();
  while (lines.length > 0 && lines[0] === "") lines.shift();
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** The comment in the whitespace between two tokens on a line, if any. */
function commentIn(gap: string): string | undefined {
  const at = gap.indexOf("#");
  return at < 0 ? undefined : gap.slice(at).trimEnd();
}

/** The space between two tokens on one line. */
function space(prev: IToken, next: IToken, hadSpace: boolean): string {
  const p = prev.tokenType;
  const n = next.tokenType;
  if (TIGHT_BEFORE.has(n) || TIGHT_AFTER.has(p)) return "";
  if (SPACE_AFTER.has(p) || SPACED.has(p) || SPACED.has(n)) return " ";
  if (n === T.LCurly) return p === T.Lt ? "" : " "; // `list<{name: string}>` is a record type
  if (p === T.RCurly && (n === T.Else || n === T.Catch || n === T.Finally)) return " ";
  return hadSpace ? " " : "";
}

/** The tokens that matter (line breaks as one kind, blank lines and comments not). */
function significant(text: string): string[] {
  const out = lex(text).tokens.map((t) => (t.tokenType === T.Newline ? "\n" : `${t.tokenType.name}:${t.image}`));
  while (out[0] === "\n") out.shift();
  while (out[out.length - 1] === "\n") out.pop();
  return out;
}

export function sameTokens(a: string, b: string): boolean {
  const x = significant(a);
  const y = significant(b);
  return x.length === y.length && x.every((t, i) => t === y[i]);
}
