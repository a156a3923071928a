// The parser's base: chevrotain's CstParser plus our error recovery and one memory fix. The
// grammar (grammar/parser.ts) calls `guard` around each statement and declaration and `junk` for
// a line that cannot start one.
//
// Recovery: chevrotain's own (single-token insertion/deletion, re-sync by follow sets) is off.
// Instead a statement that fails to parse is dropped and the parser skips to the end of its line,
// bracket-aware, so a broken `if` skips its whole block and the `}` of the enclosing block is
// never eaten. The layout pass has balanced the brackets already, so this always finds its way.
import type { CstNode, IToken, TokenType } from "chevrotain";
import { CstParser, EOF, isRecognitionException, tokenMatcher } from "./chevrotain.js";
import { messages, type SyntaxIssue, type SyntaxMessage } from "./messages.js";
import { describeToken, errorMessageProvider } from "./parser-messages.js";
import * as T from "./tokens.js";

/** The chevrotain internal recovery needs (present in chevrotain 10 and 11). */
interface ParserInternals {
  SKIP_TOKEN(): IToken;
  exportLexerState(): number;
  CST_STACK: CstNode[];
}

export abstract class RecoveringParser extends CstParser {
  /** Problems the grammar reports itself (skipped lines, missing separators); reset per parse. */
  issues: SyntaxIssue[] = [];

  constructor() {
    super(T.allTokens, { recoveryEnabled: false, maxLookahead: 3, errorMessageProvider });
  }

  /**
   * chevrotain makes each CST node's `children` with `Object.create(null)`, a dictionary-mode
   * object of a few hundred bytes; with a plain object the CST of a 10,000-line file shrinks
   * from ~21 MB to a fraction, and the garbage collector's copying with it. Rule and token names
   * never collide with Object.prototype's. (Overrides chevrotain 11's TreeBuilder method of the
   * same name; nodeLocationTracking is "none", so there is no location to set.)
   */
  cstInvocationStateUpdate(fullRuleName: string): void {
    (this as unknown as ParserInternals).CST_STACK.push({ name: fullRuleName, children: {} });
  }

  // Recovery helpers: plain code, not grammar (they only run outside the recording phase).

  /**
   * Runs `body`; when it raises a syntax error (already recorded in `this.errors`), skips to
   * the end of the line, or with `toBlock` to a `{` that can start the body of a declaration.
   */
  protected guard(body: () => void, toBlock: boolean): void {
    const self = this as unknown as ParserInternals;
    const before = self.exportLexerState();
    try {
      body();
    } catch (e) {
      if (!isRecognitionException(e as Error)) throw e;
      this.skipLine(toBlock);
      const input = this.input;
      const [first, second] = [input[before + 1], input[before + 2]];
      if (first?.tokenType === T.Let && second !== undefined && tokenMatcher(second, T.Identifier)) {
        // `let x = <broken>`: keep the declaration (its value becomes an ErrorExpr), so that the
        // lines using `x` are not reported as well.
        const last = input[self.exportLexerState()] ?? second;
        const kept: CstNode = { name: "recoveredLet", children: { Let: [first], Identifier: [second], Last: [last] } };
        const block = self.CST_STACK[self.CST_STACK.length - 1];
        (block.children.stmtLine ??= []).push({ name: "stmtLine", children: { recoveredLet: [kept] } });
      }
    }
  }

  /** A line that starts with something that cannot start `what`: report it and skip it. */
  protected junk(what: string): void {
    const tok = this.CONSUME(T.Junk);
    this.ACTION(() => {
      this.report(tok, messages.expectedStatement(describeToken(tok), what));
      if (!this.isStatementEnd(this.LA(1)) && tokenIsOpener(tok.tokenType)) this.skipLine(false, 1);
      else if (!this.isStatementEnd(this.LA(1))) this.skipLine(false);
    });
  }

  /**
   * Skips tokens up to (not including) the next line end outside brackets, or the `}` closing
   * the current block, or the end of the input; with `toBlock`, also up to a `{` at depth 0.
   */
  protected skipLine(toBlock: boolean, startDepth = 0): void {
    const self = this as unknown as ParserInternals;
    let depth = startDepth;
    for (let tok = this.LA(1); tok.tokenType !== EOF; ) {
      const t = tok.tokenType;
      if (depth <= 0 && (t === T.Newline || t === T.Semicolon)) return;
      if (depth <= 0 && toBlock && t === T.LCurly) return;
      if (t === T.LCurly || t === T.LParen || t === T.LBracket) depth++;
      else if (t === T.RCurly || t === T.RParen || t === T.RBracket) {
        if (depth <= 0 && t === T.RCurly) return;
        depth--;
      }
      tok = self.SKIP_TOKEN();
    }
  }

  protected isStatementEnd(tok: IToken): boolean {
    const t = tok.tokenType;
    return t === T.Newline || t === T.Semicolon || t === EOF || t === T.RCurly;
  }

  protected report(tok: IToken, msg: SyntaxMessage): void {
    const start = tok.startOffset;
    this.issues.push({ ...msg, start, end: start + Math.max(tok.image.length, 0) });
  }
}

function tokenIsOpener(t: TokenType): boolean {
  return t === T.LCurly || t === T.LParen || t === T.LBracket;
}

