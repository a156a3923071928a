// Every syntax diagnostic the parser can report: its stable RB1xxx code and its text.
// Texts are one sentence, lower case, no trailing period; code names in backticks.

export interface SyntaxMessage {
  code: string;
  message: string;
  hint?: string;
}

/** A syntax problem found in `grammar/`, located by file offsets (end exclusive). */
export interface SyntaxIssue extends SyntaxMessage {
  start: number;
  end: number;
}

const m = (code: string, message: string, hint?: string): SyntaxMessage =>
  hint === undefined ? { code, message } : { code, message, hint };

export const messages = {
  unexpectedCharacter: (chars: string) =>
    m("RB1001", `unexpected character ${describeChars(chars)}`),
  unterminatedString: () => m("RB1002", "unterminated string: add the closing `\"`"),
  unterminatedTripleString: () => m("RB1002", 'unterminated string: add the closing `"""`'),
  /** The parser's own "expected X, found Y". */
  expected: (expected: string, found: string) => m("RB1003", `expected ${expected}, found ${found}`),
  /** `what` is "block", "map" or the opening bracket in backticks. */
  unclosed: (close: string, what: string, line: number, column: number) =>
    m("RB1004", `expected \`${close}\` to close the ${what} opened at ${line}:${column}`),
  unmatchedClose: (close: string) => m("RB1005", `\`${close}\` has no matching opening bracket`),
  mismatchedClose: (close: string, open: string, expectedClose: string, line: number, column: number) =>
    m("RB1006", `\`${close}\` does not match the \`${open}\` opened at ${line}:${column}: expected \`${expectedClose}\``),
  tooDeep: (limit: number) => m("RB1007", `nesting deeper than ${limit} levels`, "split the expression with `let`"),
  chainedComparison: (op: string) =>
    m("RB1008", `comparisons cannot be chained: \`${op}\` follows another comparison`, "write `a < b and b < c`"),
  positionalAfterNamed: () => m("RB1009", "a positional argument cannot follow a named argument"),
  badAssignTarget: () =>
    m("RB1010", "only a name, a field `a.f` or an element `a[i]` can be assigned to"),
  badCallee: () => m("RB1011", "only a runbook, a built-in or a module function `alias.fn` can be called"),
  startNeedsCall: () => m("RB1012", "`start` must be followed by a call, like `start deploy(host: h)`"),
  plainStringOnly: (what: string) => m("RB1013", `the ${what} must be a plain string without \`\${}\``),
  badEscape: (esc: string) => m("RB1014", `unknown escape \`${esc}\``, 'the escapes are \\n \\t \\" \\\\ \\$'),
  unknownRetryOption: (name: string) =>
    m("RB1015", `unknown retry option \`${name}\``, "the options are `attempts`, `delay` and `backoff`"),
  duplicateRetryOption: (name: string) => m("RB1016", `retry option \`${name}\` is given twice`),
  missingSeparator: (found: string) =>
    m("RB1017", `expected the end of the statement, found ${found}`, "put each statement on its own line or separate them with `;`"),
  badType: (detail: string) => m("RB1018", detail),
  noRunbook: () => m("RB1019", "the file declares no runbook", "add `runbook NAME() { ... }`"),
  secondRunbook: () => m("RB1020", "a file declares exactly one runbook; this is a second one"),
  tooManyErrors: (n: number) => m("RB1021", `too many syntax errors; stopped after ${n}`),
  numberTooLarge: () => m("RB1022", "number is too large"),
  foreignOperator: (found: string, use: string) => m("RB1023", `\`${found}\` is written \`${use}\` in runbooks`),
  emptyInterpolation: () => m("RB1024", "empty interpolation `${}`"),
  unterminatedInterpolation: () => m("RB1025", "unterminated interpolation: add the closing `}`"),
  tryWithoutHandler: () => m("RB1026", "`try` needs a `catch` or a `finally`"),
  tooComplex: () => m("RB1027", "expression or statement nesting too deep to compile", "split it with `let`"),
  useAfterRunbook: () => m("RB1028", "`use` declarations must come before the runbook"),
  /** `what` is "a statement" or "`use` or `runbook`". */
  expectedStatement: (found: string, what: string) => m("RB1029", `expected ${what}, found ${found}`),
  /** chevrotain's "no alternative matched": `what` names the rule ("an expression", "a type"). */
  expectedConstruct: (what: string, found: string) => m("RB1030", `expected ${what}, found ${found}`),
  binaryFile: (count: number) =>
    m("RB1031", `this is not a text file: it holds ${count} control characters; a runbook is UTF-8 text`),
  reservedWord: (word: string) =>
    m("RB1032", `\`${word}\` is a reserved word`, `rename it, for example to \`${word}_\` or a longer name`),
  headerClause: (detail: string) =>
    m("RB1033", detail, 'write `concurrency (key: EXPR, limit: N)` or `group "NAME"` between the header and its `{`'),
  duplicateParallelOption: (name: string) => m("RB1035", `\`parallel for\` option \`${name}\` is given twice`),
  badOnError: () => m("RB1034", '`on_error` must be "stop" or "continue"', 'write `on_error: "stop"` (the default) or `on_error: "continue"`'),
  /** The safety net: the call stack ran out although nesting was bounded (should not happen). */
  stackExhausted: () => m("RB1098", "input nested too deeply to parse", "split the expression with `let`"),
  internalError: (detail: string) => m("RB1099", `internal parser error (please report it): ${detail}`),
} as const;

function describeChars(chars: string): string {
  const c = chars.length > 12 ? chars.slice(0, 12) + "…" : chars;
  const shown = Array.from(c)
    .map((ch) => {
      const cp = ch.codePointAt(0)!;
      return cp < 32 || cp === 127 || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffd
        ? `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`
        : ch;
    })
    .join("");
  return "`" + shown + "`";
}
