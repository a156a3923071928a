// What stands at an offset of a file, as the editor features see it: a local, a runbook's name,
// an activity of a `use` module, a built-in, a named argument, a `use` alias or path. Hover, go
// to definition and rename each switch over this one union. Names in a runbook's body are the
// compiler's to resolve (compiler/bindings.ts bindingAt); this adds what sits around them: the
// `use` lines, the runbook's own name, the names of named arguments, and the alias half of
// `alias.fn`.
import type * as ast from "../grammar/ast.js";
import { LineMap } from "../grammar/positions.js";
import { bindingAt, type CallResolution } from "../compiler/index.js";
import type { Binding } from "./bindings.js";
import type { Analysis, FileAnalysis } from "./analysis.js";
import { spanHas } from "./positions.js";

export type Target =
  | { kind: "local"; local: Binding; span: ast.Span; ref: ast.NameExpr | undefined }
  | { kind: "runbook"; name: string; span: ast.Span }
  | { kind: "activity"; alias: string; fn: string; span: ast.Span }
  | { kind: "builtin"; name: string; span: ast.Span }
  | { kind: "argument"; call: CallResolution; name: string; span: ast.Span }
  | { kind: "alias"; alias: string; span: ast.Span }
  | { kind: "usePath"; alias: string; span: ast.Span };

export function targetAt(a: Analysis, f: FileAnalysis, offset: number): Target | undefined {
  for (const u of f.ast.uses) {
    if (spanHas(u.alias.span, offset)) return { kind: "alias", alias: u.alias.name, span: u.alias.span };
    if (spanHas(u.span, offset)) return { kind: "usePath", alias: u.alias.name, span: u.span };
  }
  const decl = f.ast.runbook;
  if (!decl) return undefined;
  if (spanHas(decl.name.span, offset)) return { kind: "runbook", name: decl.name.name, span: decl.name.span };

  const { line, column } = new LineMap(f.file, f.text).position(offset);
  const named = bindingAt(a.program, { file: f.file, line, column });
  switch (named?.kind) {
    case "local":
      return { kind: "local", local: named.binding, span: named.span, ref: named.binding.uses.find((u) => u.span === named.span) };
    case "runbook":
      return { kind: "runbook", name: named.name, span: named.span };
    case "builtin":
      return { kind: "builtin", name: named.fn, span: named.span };
    case "activity": {
      if (named.module === "") return { kind: "builtin", name: named.fn, span: named.span };
      const [alias, fn] = aliasAndFunction(f, named.span);
      if (alias && spanHas(alias, offset) && !(fn && spanHas(fn, offset))) return { kind: "alias", alias: named.module, span: alias };
      return { kind: "activity", alias: named.module, fn: named.fn, span: fn ?? named.span };
    }
    case undefined:
      break;
  }

  for (const [call, res] of f.checked?.calls ?? []) {
    if (!spanHas(call.span, offset)) continue;
    for (const arg of call.args) {
      if (arg.name && spanHas(arg.name.span, offset)) return { kind: "argument", call: res, name: arg.name.name, span: arg.name.span };
    }
  }
  return undefined;
}

/** The spans of `alias` and `fn` in the callee `alias.fn` whose span is `callee`. */
function aliasAndFunction(f: FileAnalysis, callee: ast.Span): [ast.Span | undefined, ast.Span | undefined] {
  for (const call of f.checked?.calls.keys() ?? []) {
    const c = call.callee;
    if (c.span === callee && c.kind === "Member") return [c.object.span, c.property.span];
  }
  return [undefined, undefined];
}
