// Document symbols (the outline): the file's `use` modules, and its runbook with its parameters
// and every local declared in its body.
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import type { FileAnalysis } from "./analysis.js";
import { runbookSignature } from "./describe.js";
import { spanToRange } from "./positions.js";
import { typeToString } from "../compiler/types.js";

export function documentSymbols(f: FileAnalysis): DocumentSymbol[] {
  const out: DocumentSymbol[] = f.ast.uses.map((u) => ({
    name: u.alias.name,
    detail: `use "${u.path}"`,
    kind: SymbolKind.Module,
    range: spanToRange(u.span),
    selectionRange: spanToRange(u.alias.span),
  }));
  const decl = f.ast.runbook;
  if (!decl) return out;
  const children: DocumentSymbol[] = (f.bindings?.all ?? []).map((l) => ({
    name: l.name,
    detail: typeToString(l.type),
    kind: l.kind === "param" ? SymbolKind.Property : SymbolKind.Variable,
    range: spanToRange(l.id.span),
    selectionRange: spanToRange(l.id.span),
  }));
  out.push({
    name: decl.name.name,
    detail: f.checked ? runbookSignature(f.checked.signature, decl, f.text) : undefined,
    kind: SymbolKind.Function,
    range: spanToRange(decl.span),
    selectionRange: spanToRange(decl.name.span),
    children,
  });
  return out;
}
