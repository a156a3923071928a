// The lexer: one chevrotain Lexer built once for the process. Tokens carry start offsets only
// (a token ends at startOffset + image.length; virtual tokens are empty); lines
// and columns come from the file's line table when a span is made (grammar/positions.ts).
import type { IToken } from "chevrotain";
import { Lexer } from "./chevrotain.js";
import { allTokens } from "./tokens.js";

const lexer = new Lexer(allTokens, {
  positionTracking: "onlyOffset",
  ensureOptimizations: true,
});

export interface LexResult {
  tokens: IToken[];
  /** Runs of characters no token matches: file offsets. */
  errors: { offset: number; length: number }[];
}

/**
 * Lexes `text`. With `base` > 0 the text is a slice of a file starting at that offset (an
 * interpolation) and every offset in the result is shifted to be a file offset.
 */
export function lex(text: string, base = 0): LexResult {
  const r = lexer.tokenize(text);
  const errors = r.errors.map((e) => ({ offset: e.offset + base, length: e.length }));
  if (base !== 0) {
    for (const t of r.tokens) t.startOffset += base;
  }
  return { tokens: r.tokens, errors };
}
