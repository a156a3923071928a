// Token types of the runbook language. The order of `allTokens` is the lexer's priority order.
import type { CustomPatternMatcherReturn, TokenType } from "chevrotain";
import { createToken, Lexer } from "./chevrotain.js";
import { scanString } from "./strings.js";

/** Anything usable where a name is expected after `.`, as a map key, or as an argument name. */
export const AnyName = createToken({ name: "AnyName", pattern: Lexer.NA });
/** Binary operators: the parser reads `operand (op operand)*` and the builder applies precedence. */
export const BinaryOp = createToken({ name: "BinaryOp", pattern: Lexer.NA });
/** A line break or `;`: what ends a statement. */
export const StatementEnd = createToken({ name: "StatementEnd", pattern: Lexer.NA, label: "end of statement" });
/** Every token but `}`: what error recovery skips over when a line is not a statement. */
export const Junk = createToken({ name: "Junk", pattern: Lexer.NA, label: "anything" });
/** `=`, `+=`, `-=` */
export const AssignOp = createToken({ name: "AssignOp", pattern: Lexer.NA });

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [AnyName],
  label: "a name",
});

function keyword(word: string, extra: TokenType[] = []): TokenType {
  return createToken({
    name: word[0].toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [AnyName, ...extra],
    label: "`" + word + "`",
  });
}

export const Use = keyword("use");
export const Runbook = keyword("runbook");
export const Let = keyword("let");
export const If = keyword("if");
export const Else = keyword("else");
export const While = keyword("while");
export const For = keyword("for");
export const In = keyword("in");
export const Break = keyword("break");
export const Continue = keyword("continue");
export const Return = keyword("return");
export const Checkpoint = keyword("checkpoint");
export const Sleep = keyword("sleep");
export const Suspend = keyword("suspend");
export const Wait = keyword("wait");
export const Timeout = keyword("timeout");
export const Output = keyword("output");
export const Log = keyword("log");
export const Warn = keyword("warn");
export const ErrorKw = createToken({
  name: "ErrorKw",
  pattern: /error/,
  longer_alt: Identifier,
  categories: [AnyName],
  label: "`error`",
});
export const Fail = keyword("fail");
export const Try = keyword("try");
export const Catch = keyword("catch");
export const Finally = keyword("finally");
export const Retry = keyword("retry");
export const Start = keyword("start");
export const Await = keyword("await");
/** `parallel` is a keyword only right before `for` (grammar/contextual.ts). */
export const Parallel = keyword("parallel");
export const True = keyword("true");
export const False = keyword("false");
export const Null = keyword("null");
export const And = keyword("and", [BinaryOp]);
export const Or = keyword("or", [BinaryOp]);
export const Not = keyword("not");
/** `as` is only a keyword in `use ... as NAME`; elsewhere it is an ordinary name. */
export const As = createToken({
  name: "As",
  pattern: /as/,
  longer_alt: Identifier,
  categories: [Identifier, AnyName],
  label: "`as`",
});

/** A string literal, interpolations and all; the payload is the scanner's result. */
export const StringLit = createToken({
  name: "StringLit",
  pattern: {
    exec: (text: string, offset: number): CustomPatternMatcherReturn | null => {
      if (text.charCodeAt(offset) !== 34) return null;
      const scan = scanString(text, offset);
      const m = [text.slice(offset, scan.end)] as CustomPatternMatcherReturn;
      m.payload = scan;
      return m;
    },
  },
  line_breaks: true,
  start_chars_hint: ['"'],
  label: "a string",
});

function matchNewlines(text: string, offset: number): CustomPatternMatcherReturn | null {
  let i = offset;
  let end = -1; // just past the last line break matched
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 13) i += text.charCodeAt(i + 1) === 10 ? 2 : 1;
    else if (c === 10) i += 1;
    else break;
    end = i;
    while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
    if (text.charCodeAt(i) === 35 /* # */) {
      while (i < text.length && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
    }
  }
  return end < 0 ? null : ([text.slice(offset, end)] as CustomPatternMatcherReturn);
}

// A duration is digits with units, possibly summed (`1h30m`); it must not run into a name.
export const DurationLit = createToken({
  name: "DurationLit",
  pattern: /(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+(?![A-Za-z0-9_])/,
  label: "a duration",
});
export const NumberLit = createToken({
  name: "NumberLit",
  pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
  label: "a number",
});

// One token for a line break and any blank or comment-only lines after it: fewer tokens. A
// hand-written matcher, because a regular expression with a repeated group backtracks through
// a stack that a file of a million blank lines exhausts.
export const Newline = createToken({
  name: "Newline",
  pattern: { exec: matchNewlines },
  start_chars_hint: ["\n", "\r"],
  line_breaks: true,
  categories: [StatementEnd],
  label: "end of line",
});
export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\f\v\u00a0\ufeff\u2028\u2029]+/,
  group: Lexer.SKIPPED,
});
export const Comment = createToken({ name: "Comment", pattern: /#[^\r\n]*/, group: Lexer.SKIPPED });

function punct(name: string, pattern: RegExp, label: string, categories: TokenType[] = []): TokenType {
  return createToken({ name, pattern, label: "`" + label + "`", categories });
}

export const Arrow = punct("Arrow", /->/, "->");
export const PlusEq = punct("PlusEq", /\+=/, "+=", [AssignOp]);
export const MinusEq = punct("MinusEq", /-=/, "-=", [AssignOp]);
export const EqEq = punct("EqEq", /==/, "==", [BinaryOp]);
export const NotEq = punct("NotEq", /!=/, "!=", [BinaryOp]);
export const LtEq = punct("LtEq", /<=/, "<=", [BinaryOp]);
export const GtEq = punct("GtEq", />=/, ">=", [BinaryOp]);
export const Lt = punct("Lt", /</, "<", [BinaryOp]);
export const Gt = punct("Gt", />/, ">", [BinaryOp]);
export const Eq = punct("Eq", /=/, "=", [AssignOp]);
export const Plus = punct("Plus", /\+/, "+", [BinaryOp]);
export const Minus = punct("Minus", /-/, "-", [BinaryOp]);
export const Star = punct("Star", /\*/, "*", [BinaryOp]);
export const Slash = punct("Slash", /\//, "/", [BinaryOp]);
export const Percent = punct("Percent", /%/, "%", [BinaryOp]);
export const QuestionQuestion = punct("QuestionQuestion", /\?\?/, "??", [BinaryOp]);
export const QuestionDot = punct("QuestionDot", /\?\./, "?.");
export const Question = punct("Question", /\?/, "?");
export const DotDot = punct("DotDot", /\.\./, "..", [BinaryOp]);
export const Dot = punct("Dot", /\./, ".");
export const Comma = punct("Comma", /,/, ",");
export const Colon = punct("Colon", /:/, ":");
export const Semicolon = punct("Semicolon", /;/, ";", [StatementEnd]);
export const LParen = punct("LParen", /\(/, "(");
export const RParen = punct("RParen", /\)/, ")");
export const LBracket = punct("LBracket", /\[/, "[");
export const RBracket = punct("RBracket", /]/, "]");
export const LCurly = punct("LCurly", /{/, "{");
export const RCurly = punct("RCurly", /}/, "}");
/** `&&`, `||`, `!`: not runbook syntax; lexed so the layout pass can say what to write instead. */
export const ForeignOp = punct("ForeignOp", /&&|\|\||!/, "&&");

// Keywords that are a prefix of another keyword must come after it (`output` before `or`).
const keywords = [
  Checkpoint, Continue, Parallel, Runbook, Finally, Suspend, Timeout, Output, Return, ErrorKw, Await,
  Break, Catch, Retry, Sleep, Start, While, Else, False, Fail, Null, True, Wait, Warn, For,
  Let, Log, Not, And, Try, Use, If, In, Or, As,
];

export const allTokens: TokenType[] = [
  WhiteSpace, Comment, Newline, StringLit, DurationLit, NumberLit,
  ...keywords, Identifier,
  Arrow, PlusEq, MinusEq, EqEq, NotEq, LtEq, GtEq, Lt, Gt, Eq, Plus, Minus, Star, Slash, Percent,
  QuestionQuestion, QuestionDot, Question, DotDot, Dot, Comma, Colon, Semicolon,
  LParen, RParen, LBracket, RBracket, LCurly, RCurly, ForeignOp,
  AnyName, BinaryOp, AssignOp, StatementEnd, Junk,
];

for (const t of allTokens) {
  if (t === RCurly || t === WhiteSpace || t === Comment || t.PATTERN === Lexer.NA) continue;
  t.CATEGORIES = [...(t.CATEGORIES ?? []), Junk];
}
