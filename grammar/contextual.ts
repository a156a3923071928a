// Which words are reserved and which are contextual, and the rule that tells, from the tokens
// around it, whether a contextual word is its keyword or a name. The layout pass applies the rule
// (grammar/layout.ts) and hands the parser a contextual word read as a name as an Identifier, so
// the grammar itself stays LL(1) and keyword-driven. The same rule, for authors, is in
// docs/language.md ("Reserved and contextual words").
import type { TokenType } from "chevrotain";
import * as T from "./tokens.js";

/** Structural words: never a name. Using one as a name is reported (RB1032). */
export const RESERVED = new Set<TokenType>([
  T.Let, T.If, T.Else, T.While, T.For, T.In, T.Break, T.Continue, T.Return, T.True, T.False,
  T.Null, T.And, T.Or, T.Not, T.Try, T.Catch, T.Finally, T.Runbook, T.Use,
]);

/** Words that start a statement of their own and are names anywhere else. */
export const STATEMENT_WORDS = new Set<TokenType>([
  T.Checkpoint, T.Sleep, T.Suspend, T.Output, T.Log, T.Warn, T.ErrorKw, T.Fail, T.Retry,
]);

/** Words that start an expression whose operand follows them: `wait "s"`, `start f()`, `await j`. */
export const EXPRESSION_WORDS = new Set<TokenType>([T.Wait, T.Start, T.Await]);

/** All contextual words (`timeout` is one: it is a keyword only right after `wait`'s operand). */
export const CONTEXTUAL = new Set<TokenType>([...STATEMENT_WORDS, ...EXPRESSION_WORDS, T.Timeout, T.Parallel]);

/**
 * Tokens that can start the operand of `wait`, `start`, `await` (a primary expression). `{` is
 * left out on purpose: the operand is never a map, and `if start {` must read `start` as a name.
 */
const STARTS_OPERAND = new Set<TokenType>([
  T.NumberLit, T.DurationLit, T.StringLit, T.True, T.False, T.Null, T.Identifier, T.As,
  ...CONTEXTUAL, T.LParen, T.LBracket,
]);

/** Tokens that can start the expression after `timeout` (prefix operators too). */
const STARTS_TIMEOUT = new Set<TokenType>([...STARTS_OPERAND, T.Minus, T.Not]);

/** Tokens that end an expression: a `timeout` after one of these continues a `wait`. */
const ENDS_EXPRESSION = new Set<TokenType>([
  T.NumberLit, T.DurationLit, T.StringLit, T.True, T.False, T.Null, T.Identifier, T.As,
  T.RParen, T.RBracket, T.RCurly,
]);

/**
 * After a statement word at the start of a statement, these make it a name: `output.x`,
 * `log + 1`, `error ?? "none"`. Not `-` (`output -1` outputs minus one), not `(` or `[`
 * (`output (x)`, `output [1, 2]` are the statement; an assignment `output[0] = 1` is found by
 * looking for `=` on the line instead).
 */
const NAME_FOLLOWERS = new Set<TokenType>([
  T.Dot, T.QuestionDot, T.Plus, T.Star, T.Slash, T.Percent, T.EqEq, T.NotEq, T.Lt, T.LtEq,
  T.Gt, T.GtEq, T.DotDot, T.QuestionQuestion, T.And, T.Or, T.Colon,
]);

/** After these only a name can follow: `let start`, `for wait in`, `catch error`, `x.output`. */
const NAME_AFTER = new Set<TokenType>([T.Let, T.For, T.Catch, T.Runbook, T.Dot, T.QuestionDot]);

/** Where a contextual word stands, as the layout pass sees it. */
export interface WordContext {
  word: TokenType;
  /** The token laid out before it (undefined at the start of the input). */
  prev: TokenType | undefined;
  /** The token after it, skipping line breaks that do not end the statement. */
  next: TokenType | undefined;
  /** It is the first token of a statement (in a block or at the top level, not in brackets). */
  statementStart: boolean;
  /** Only asked when statementStart: the statement has `=`, `+=` or `-=` outside brackets. */
  assigns: () => boolean;
}

/** Whether a contextual word is read as its keyword (else it is a name). */
export function isKeyword(c: WordContext): boolean {
  if ((c.prev !== undefined && NAME_AFTER.has(c.prev)) || c.next === T.Colon) return false;
  // `parallel for`: no name can stand before `for` (a reserved word), so this never misreads one.
  if (c.word === T.Parallel) return c.next === T.For;
  if (c.word === T.Timeout) {
    return c.prev !== undefined && ENDS_EXPRESSION.has(c.prev) && c.next !== undefined && STARTS_TIMEOUT.has(c.next);
  }
  if (EXPRESSION_WORDS.has(c.word)) {
    if (c.next === undefined || !STARTS_OPERAND.has(c.next)) return false;
    return !(c.statementStart && c.assigns());
  }
  // A statement word.
  if (!c.statementStart) return false;
  if (c.next !== undefined && NAME_FOLLOWERS.has(c.next)) return false;
  return !c.assigns();
}

/** Whether a statement word met inside brackets, first on its line, most likely starts a statement. */
export function startsStatementInBrackets(word: TokenType, next: TokenType | undefined): boolean {
  return STATEMENT_WORDS.has(word) && next !== undefined && next !== T.LParen && next !== T.LBracket && STARTS_OPERAND.has(next);
}

/**
 * Whether a reserved word stands where only a name can: after `let`, `for`, `catch`, `runbook`,
 * `use "..." as`, as a `runbook` parameter (before `:`), or as the target of an assignment at
 * the start of a statement (`if = 3`).
 */
export function reservedAsName(c: {
  word: TokenType;
  prev: TokenType | undefined;
  beforePrev: TokenType | undefined;
  next: TokenType | undefined;
  statementStart: boolean;
  inHeader: boolean;
}): boolean {
  const { prev, next } = c;
  if (prev === T.Let || prev === T.For || prev === T.Catch || prev === T.Runbook) return true;
  if (prev === T.As && c.beforePrev === T.StringLit) return true;
  if (c.inHeader && (prev === T.LParen || prev === T.Comma) && next === T.Colon) return true;
  // `let = 1` is a `let` missing its name, not an assignment to `let`.
  return c.statementStart && c.word !== T.Let && (next === T.Eq || next === T.PlusEq || next === T.MinusEq);
}
