// The parser's public face: text in, AST and diagnostics out. Never throws.
//
// Pipeline: lex (chevrotain) → layout (which newlines count, brackets balanced, nesting bounded)
// → parse (chevrotain CstParser, our own statement-level recovery) → build (CST → AST, string
// interpolations parsed on the way) → bound the tree's depth → diagnostics with positions.
import type { Diagnostic } from "./diagnostic.js";
import type { SourceFileNode } from "./ast.js";
import { AstBuilder } from "./build.js";
import { lex } from "./lexer.js";
import { layout, type VirtualToken } from "./layout.js";
import { messages, type SyntaxIssue } from "./messages.js";
import { parser } from "./parser.js";
import { splitParserMessage } from "./parser-messages.js";
import { LineMap } from "./positions.js";
import { exceedsDepth, MAX_TREE_DEPTH } from "./depth.js";
import { unterminatedReason, type StringScan } from "./strings.js";
import { StringLit } from "./tokens.js";

/** At most this many syntax diagnostics per file; then one saying the rest were left out. */
export const MAX_SYNTAX_DIAGNOSTICS = 100;

export interface ParseResult {
  ast: SourceFileNode;
  diagnostics: Diagnostic[];
}

export function parse(file: string, text: string): ParseResult {
  const lines = new LineMap(file, typeof text === "string" ? text : String(text));
  try {
    return parseChecked(lines);
  } catch (e) {
    // A bug or an exhausted stack must not escape as a crash: report it as a diagnostic.
    const reason = e instanceof RangeError ? messages.stackExhausted() : messages.internalError(String((e as Error)?.message ?? e));
    return { ast: emptyFile(lines), diagnostics: toDiagnostics(lines, [{ ...reason, start: 0, end: 0 }]) };
  }
}

function parseChecked(lines: LineMap): ParseResult {
  const binary = binaryEvidence(lines.text);
  if (binary !== undefined) {
    const issue = { ...messages.binaryFile(binary.count), start: binary.first, end: binary.first + 1 };
    return { ast: emptyFile(lines), diagnostics: toDiagnostics(lines, [issue]) };
  }
  const issues: SyntaxIssue[] = [];
  const lexed = lex(lines.text);
  for (const e of lexed.errors) {
    issues.push({ ...messages.unexpectedCharacter(lines.text.slice(e.offset, e.offset + e.length)), start: e.offset, end: e.offset + e.length });
  }
  for (const t of lexed.tokens) {
    if (t.tokenType !== StringLit || (t.payload as StringScan).terminated) continue;
    const why = unterminatedReason(lines.text, t.startOffset, t.startOffset + t.image.length);
    const msg = why.interpolation ? messages.unterminatedInterpolation() : why.triple ? messages.unterminatedTripleString() : messages.unterminatedString();
    issues.push({ ...msg, start: why.at, end: why.end });
  }
  const laid = layout(lexed.tokens, lines, false);
  for (const i of laid.issues) issues.push(i);
  if (laid.tooDeep) return { ast: emptyFile(lines), diagnostics: toDiagnostics(lines, laid.issues) };

  parser.input = laid.tokens;
  parser.issues = [];
  const ctx = { lines, issues, maxChain: 0 };
  const builder = new AstBuilder(ctx);
  parser.onStatement = (line) => builder.prebuild(line);
  let cst;
  try {
    cst = parser.sourceFile();
  } finally {
    parser.onStatement = undefined;
  }
  // A lexer error usually leaves its statement broken: further complaints about that line are
  // echoes, as are errors at the tokens the layout made up to recover (it reported those).
  const lexErrorLines = new Set(lexed.errors.map((e) => lines.position(e.offset).line));
  const echo = (start: number) => lexErrorLines.size > 0 && lexErrorLines.has(lines.position(start).line);
  for (const i of parser.issues) if (!echo(i.start)) issues.push(i);
  for (const e of parser.errors) {
    const t = e.token;
    if ((t as Partial<VirtualToken>).recovery === true) continue;
    if (!Number.isNaN(t.startOffset) && echo(t.startOffset)) continue;
    const start = Number.isNaN(t.startOffset) ? lines.text.length : t.startOffset;
    const stop = Number.isNaN(t.startOffset) ? start : t.startOffset + t.image.length;
    issues.push({ ...splitParserMessage(e.message), start, end: stop });
  }
  parser.input = []; // let the token vector be collected

  let ast = builder.sourceFile(cst);
  if (mayExceedDepth(laid.maxDepth, ctx.maxChain) && exceedsDepth(ast, MAX_TREE_DEPTH)) {
    issues.push({ ...messages.tooComplex(), start: 0, end: 0 });
    ast = emptyFile(lines);
  }
  if (ast.runbook === undefined && issues.length === 0) issues.push({ ...messages.noRunbook(), start: 0, end: 0 });
  return { ast, diagnostics: toDiagnostics(lines, issues) };
}

/**
 * Control characters (other than tab, line breaks, form feed) and U+FFFD (what undecodable
 * bytes become) in quantity mean binary data, not a runbook with a typo: lexing it would only
 * produce thousands of "unexpected character" errors, slowly. Returns the count and the first
 * offset when there are more than 64 of them making up over 1% of the text.
 */
function binaryEvidence(text: string): { count: number; first: number } | undefined {
  let count = 0;
  let first = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 11 && c !== 12 && c !== 13) || c === 0xfffd || c === 127) {
      if (first < 0) first = i;
      count++;
    }
  }
  return count > 64 && count * 100 > text.length ? { count, first } : undefined;
}

/**
 * Whether the tree might be deeper than MAX_TREE_DEPTH. Each level of brackets, blocks and
 * strings adds a few tree levels (statement, expression, call, argument...: 6 is generous) plus
 * at most the longest chain built without brackets.
 */
function mayExceedDepth(nesting: number, maxChain: number): boolean {
  return 6 * (nesting + 1) * (maxChain + 2) > MAX_TREE_DEPTH;
}

function emptyFile(lines: LineMap): SourceFileNode {
  return { kind: "SourceFile", span: lines.span(0, lines.text.length), file: lines.file, uses: [], runbook: undefined };
}

function toDiagnostics(lines: LineMap, issues: SyntaxIssue[]): Diagnostic[] {
  const sorted = issues.slice().sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Diagnostic[] = [];
  let lastKey = "";
  for (const i of sorted) {
    const key = `${i.start}:${i.code}:${i.message}`;
    if (key === lastKey) continue; // the same problem found twice (e.g. by layout and parser)
    lastKey = key;
    if (out.length === MAX_SYNTAX_DIAGNOSTICS) {
      out.push({ severity: "error", code: messages.tooManyErrors(0).code, message: messages.tooManyErrors(MAX_SYNTAX_DIAGNOSTICS).message, span: lines.span(i.start, i.start) });
      break;
    }
    const d: Diagnostic = { severity: "error", code: i.code, message: i.message, span: lines.span(i.start, i.end) };
    if (i.hint !== undefined) d.hint = i.hint;
    out.push(d);
  }
  return out;
}
