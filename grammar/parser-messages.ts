// How chevrotain's parse errors read: our words, our codes. chevrotain hands back only a message
// string per error, so the code travels in front of it ("RB1003␁expected ...") and
// `splitParserMessage` takes it apart again.
import type { IParserErrorMessageProvider, IToken, TokenType } from "chevrotain";
import { EOF } from "./chevrotain.js";
import { messages, type SyntaxMessage } from "./messages.js";
import type { VirtualToken } from "./layout.js";
import * as T from "./tokens.js";

const SEP = "\u0001";

/** What the parser expected when no alternative of a rule matched, by rule name. */
const RULE_WANTS: Record<string, string> = {
  primary: "an expression",
  expression: "an expression",
  operand: "an expression",
  postfix: "an expression",
  typeAtom: "a type",
  type: "a type",
  mapEntry: "a map key (a name or a string)",
  stmtLine: "a statement",
  streamStmt: "`output`, `log`, `warn` or `error`",
};

/** A token as a diagnostic names it: "`foo`", "a string", "end of line". */
export function describeToken(tok: IToken): string {
  const t = tok.tokenType;
  if (t === EOF || t === undefined) return "end of file";
  const shownAs = (tok as Partial<VirtualToken>).shownAs;
  if (shownAs !== undefined) return shownAs;
  if (t === T.Newline) return "end of line";
  if (t === T.StringLit) return "a string";
  if (tok.image === "") return label(t);
  const img = tok.image.length > 24 ? tok.image.slice(0, 24) + "…" : tok.image;
  return "`" + img + "`";
}

function label(t: TokenType): string {
  return t.LABEL ?? "`" + t.name + "`";
}

function pack(msg: SyntaxMessage): string {
  return msg.code + SEP + msg.message;
}

/** Splits a message made here back into code and text. */
export function splitParserMessage(text: string): SyntaxMessage {
  const i = text.indexOf(SEP);
  return i < 0 ? { code: "RB1003", message: text } : { code: text.slice(0, i), message: text.slice(i + 1) };
}

export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return pack(messages.expected(label(expected), describeToken(actual)));
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return pack(messages.expectedConstruct("the end of the expression", describeToken(firstRedundant)));
  },
  buildNoViableAltMessage({ actual, ruleName }) {
    return pack(messages.expectedConstruct(RULE_WANTS[ruleName] ?? "something else", describeToken(actual[0])));
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    return pack(messages.expectedConstruct(RULE_WANTS[ruleName] ?? "something else", describeToken(actual[0])));
  },
};
