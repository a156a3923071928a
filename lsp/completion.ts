// Completion at the cursor. The text being typed rarely parses, so the context comes from the
// tokens before the cursor (the lexer's, which never fails) and the names from the last analysis:
//   after `alias.`           the activity functions of that `use` module, with their parameters;
//   after `local.`           the fields of the local's record type;
//   inside `f(` ... `)`      f's named parameters (`batch: `), then everything below;
//   anywhere else            locals in scope, runbooks, `use` aliases, built-ins, statement words;
//   in a string              nothing, but inside its `${...}` all of the above.
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from "vscode-languageserver";
import { lex } from "../grammar/lexer.js";
import { BUILTIN_ACTIVITIES, BUILTIN_FUNCTIONS } from "../compiler/builtins.js";
import type { ActivitySignature } from "../compiler/checked.js";
import { nonNull, typeToString } from "../compiler/types.js";
import type { Analysis, FileAnalysis } from "./analysis.js";
import { localsVisibleAt } from "./bindings.js";
import { activityDoc, runbookDoc } from "./docs.js";
import { KEYWORDS } from "./words.js";
import { activitySignature, builtinSignature, localSignature, runbookSignature } from "./describe.js";

/** A token as the lexer gives it (only what is read here). */
interface Tok {
  image: string;
  startOffset: number;
  /** A string token's scan (grammar/strings.ts): whether it has its closing quote. */
  payload?: unknown;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function completion(a: Analysis, f: FileAnalysis, offset: number): CompletionItem[] {
  let tokens: Tok[] = lex(f.text).tokens;
  let i = tokens.findIndex((t) => t.startOffset >= offset);
  if (i < 0) i = tokens.length;
  const last = tokens[i - 1];
  if (last && insideString(last, offset)) {
    // In a `${...}` of the string the context is the interpolation's own tokens; elsewhere in a
    // string there is nothing to complete.
    const open = openInterpolation(f.text, last.startOffset, offset);
    if (open === undefined) return [];
    tokens = lex(f.text.slice(open, offset), open).tokens;
    i = tokens.length;
  } else if (inComment(f.text, offset, tokens)) {
    return [];
  }
  // The word being typed is not context.
  const typed = tokens[i - 1];
  if (typed && NAME.test(typed.image) && typed.startOffset + typed.image.length === offset) i--;
  const before = tokens.slice(Math.max(0, i - 400), i);

  const dot = before[before.length - 1];
  if (dot && (dot.image === "." || dot.image === "?.")) {
    const owner = before[before.length - 2];
    return owner && NAME.test(owner.image) ? members(f, owner.image, offset) : [];
  }
  const callee = enclosingCallee(before);
  const params = callee ? argumentItems(a, f, callee) : [];
  return [...params, ...general(a, f, offset)];
}

/** Is `offset` inside string token `t` (after its opening quote; at its end only if it has no closing quote)? */
function insideString(t: Tok, offset: number): boolean {
  if (!t.image.startsWith('"') || offset <= t.startOffset) return false;
  const end = t.startOffset + t.image.length;
  const unterminated = (t.payload as { terminated?: boolean } | undefined)?.terminated === false;
  return offset < end || (offset === end && unterminated);
}

/** The offset just after the innermost `${` still open at `offset` in the string starting at `start`. */
function openInterpolation(text: string, start: number, offset: number): number | undefined {
  const open: number[] = [];
  for (let k = start + 1; k < offset; k++) {
    const c = text[k];
    if (c === "\\") k++;
    else if (c === "$" && text[k + 1] === "{") {
      open.push(k + 2);
      k++;
    }
    else if (c === "}" && open.length) open.pop();
  }
  return open[open.length - 1];
}

function members(f: FileAnalysis, owner: string, offset: number): CompletionItem[] {
  const m = f.modules.get(owner);
  if (m) return [...m.functions.values()].map((fn) => activityItem(fn, activityDoc(fn.declaration)));
  const bindings = f.bindings;
  const local = bindings && localsVisibleAt(bindings, offset).find((l) => l.name === owner);
  const type = local?.type && nonNull(local.type);
  if (type?.kind !== "record") return [];
  return Object.entries(type.fields).map(([name, t]) => ({ label: name, kind: CompletionItemKind.Field, detail: typeToString(t) }));
}

function general(a: Analysis, f: FileAnalysis, offset: number): CompletionItem[] {
  const items: CompletionItem[] = [];
  const bindings = f.bindings;
  for (const l of bindings ? localsVisibleAt(bindings, offset) : []) {
    items.push({ label: l.name, kind: CompletionItemKind.Variable, detail: localSignature(l.kind, l.name, l.type), sortText: `1${l.name}` });
  }
  for (const [name, rb] of a.runbooks) {
    const text = a.files.get(rb.file)?.text;
    items.push({
      label: name,
      kind: CompletionItemKind.Function,
      detail: runbookSignature(rb.signature, rb.decl, text),
      documentation: text === undefined ? undefined : runbookDoc(text, rb.decl.span.start.offset),
      sortText: `2${name}`,
    });
  }
  for (const u of f.ast.uses) items.push({ label: u.alias.name, kind: CompletionItemKind.Module, detail: `use "${u.path}"`, sortText: `2${u.alias.name}` });
  for (const name of BUILTIN_FUNCTIONS.keys()) items.push({ label: name, kind: CompletionItemKind.Function, detail: builtinSignature(name), sortText: `3${name}` });
  for (const fn of BUILTIN_ACTIVITIES.values()) items.push({ ...activityItem(fn, undefined), sortText: `3${fn.name}` });
  for (const w of KEYWORDS) items.push({ label: w, kind: CompletionItemKind.Keyword, sortText: `4${w}` });
  return items;
}

function activityItem(fn: ActivitySignature, doc: string | undefined): CompletionItem {
  return { label: fn.name, kind: CompletionItemKind.Function, detail: activitySignature(fn), documentation: doc };
}

/** The named parameters of the call being written, as `name: ` items listed first. */
function argumentItems(a: Analysis, f: FileAnalysis, callee: { owner?: string; name: string }): CompletionItem[] {
  let params: { name: string; detail: string }[] = [];
  if (callee.owner !== undefined) {
    const fn = f.modules.get(callee.owner)?.functions.get(callee.name);
    params = fn?.params.map((p) => ({ name: p.name, detail: `${p.optional ? "optional " : ""}${typeToString(p.type)}` })) ?? [];
  } else {
    const rb = a.runbooks.get(callee.name);
    const builtin = BUILTIN_ACTIVITIES.get(callee.name);
    if (rb) params = rb.signature.params.map((p) => ({ name: p.name, detail: `${typeToString(p.type)}${p.hasDefault ? " (has a default)" : ""}` }));
    else if (builtin) params = builtin.params.map((p) => ({ name: p.name, detail: `${p.optional ? "optional " : ""}${typeToString(p.type)}` }));
  }
  return params.map((p, i) => ({
    label: `${p.name}:`,
    kind: CompletionItemKind.Property,
    detail: p.detail,
    insertText: `${p.name}: $0`,
    insertTextFormat: InsertTextFormat.Snippet,
    filterText: p.name,
    sortText: `0${String(i).padStart(4, "0")}`, // declaration order
  }));
}

/** The callee of the innermost unclosed `(` among `tokens`: `name(` or `owner.name(`. */
function enclosingCallee(tokens: Tok[]): { owner?: string; name: string } | undefined {
  let depth = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!.image;
    if (t === ")" || t === "]" || t === "}") depth++;
    else if (t === "[" || t === "{") {
      if (depth === 0) return undefined; // inside a list or map literal first
      depth--;
    } else if (t === "(") {
      if (depth > 0) {
        depth--;
        continue;
      }
      const name = tokens[i - 1]?.image;
      if (!name || !NAME.test(name)) return undefined; // a parenthesized expression
      const dot = tokens[i - 2]?.image;
      const owner = tokens[i - 3]?.image;
      return dot === "." && owner && NAME.test(owner) ? { owner, name } : { name };
    }
  }
  return undefined;
}

/** Is `offset` after a `#` on its line that no string token covers? */
function inComment(text: string, offset: number, tokens: Tok[]): boolean {
  const lineStart = Math.max(text.lastIndexOf("\n", offset - 1), text.lastIndexOf("\r", offset - 1)) + 1;
  for (let at = text.indexOf("#", lineStart); at >= 0 && at < offset; at = text.indexOf("#", at + 1)) {
    const inString = tokens.some((t) => t.startOffset <= at && at < t.startOffset + t.image.length);
    if (!inString) return true;
  }
  return false;
}
