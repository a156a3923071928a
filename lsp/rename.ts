// Rename of a local: its declaration and every reference, in its own file (a local is never
// seen from another). Refused, with a one-line reason, when the new name is not a name, is a
// reserved word, or would change what some name refers to: another local of that name visible
// where this one is used (it would capture the references) or this one visible where the other
// is used, or a `use` alias of that name.
import { ResponseError, ErrorCodes, type Range, type TextEdit, type WorkspaceEdit } from "vscode-languageserver";
import { RESERVED_WORDS } from "./words.js";
import type { Analysis, FileAnalysis } from "./analysis.js";
import type { Binding } from "./bindings.js";
import { targetAt } from "./locate.js";
import { pathToUri, spanToRange } from "./positions.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The local at `offset` and the range to rename, or an error saying why there is nothing to rename. */
export function prepareRename(a: Analysis, f: FileAnalysis, offset: number): { range: Range; placeholder: string } | ResponseError<void> {
  const t = targetAt(a, f, offset);
  if (t?.kind !== "local") return new ResponseError(ErrorCodes.InvalidRequest, "only a local (a parameter, `let`, `for` or `catch` name) can be renamed");
  return { range: spanToRange(t.span), placeholder: t.local.name };
}

export function rename(a: Analysis, f: FileAnalysis, offset: number, newName: string): WorkspaceEdit | ResponseError<void> {
  const t = targetAt(a, f, offset);
  if (t?.kind !== "local") return new ResponseError(ErrorCodes.InvalidRequest, "only a local (a parameter, `let`, `for` or `catch` name) can be renamed");
  const local = t.local;
  if (!NAME.test(newName)) return new ResponseError(ErrorCodes.InvalidParams, `\`${newName}\` is not a name (letters, digits and _, not starting with a digit)`);
  if (RESERVED_WORDS.has(newName)) return new ResponseError(ErrorCodes.InvalidParams, `\`${newName}\` is a reserved word`);
  if (newName !== local.name) {
    const clash = conflict(f, local, newName);
    if (clash) return new ResponseError(ErrorCodes.InvalidParams, clash);
  }
  const edits: TextEdit[] = [local.id.span, ...local.uses.map((r) => r.span)].map((s) => ({ range: spanToRange(s), newText: newName }));
  return { changes: { [pathToUri(f.file)]: edits } };
}

function conflict(f: FileAnalysis, local: Binding, newName: string): string | undefined {
  if (f.ast.uses.some((u) => u.alias.name === newName)) return `\`${newName}\` is the alias of a \`use\` module`;
  const within = (v: Binding["visible"], at: number) => v.from < at && at < v.to;
  const ours = [local.id.span.start.offset, ...local.uses.map((r) => r.span.start.offset)];
  for (const other of f.bindings?.all ?? []) {
    if (other.name !== newName || !other.inScope) continue;
    const theirs = other.uses.map((r) => r.span.start.offset);
    if (ours.some((at) => within(other.visible, at)) || theirs.some((at) => within(local.visible, at))) {
      return `\`${newName}\` is already a local here (line ${other.id.span.start.line}); renaming would change what a name refers to`;
    }
  }
  return undefined;
}
