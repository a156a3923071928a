// What stands at an offset of a file, as the editor features see it: a local, a runbook's name,
// an activity of a `use` module, a built-in, a named argument, a `use` alias or path. Hover, go
// to definition and rename each switch over this one union.
import type * as ast from "../grammar/ast.js";
import type { CallResolution } from "../compiler/checked.js";
import { localAt, type Binding } from "./bindings.js";
import type { FileAnalysis } from "./analysis.js";
import { spanHas } from "./positions.js";

export type Target =
  | { kind: "local"; local: Binding; span: ast.Span; ref: ast.NameExpr | undefined }
  | { kind: "runbook"; name: string; span: ast.Span }
  | { kind: "activity"; alias: string; fn: string; span: ast.Span }
  | { kind: "builtin"; name: string; span: ast.Span }
  | { kind: "argument"; call: CallResolution; name: string; span: ast.Span }
  | { kind: "alias"; alias: string; span: ast.Span }
  | { kind: "usePath"; alias: string; span: ast.Span };

export function targetAt(f: FileAnalysis, offset: number): Target | undefined {
  for (const u of f.ast.uses) {
    if (spanHas(u.alias.span, offset)) return { kind: "alias", alias: u.alias.name, span: u.alias.span };
    if (spanHas(u.span, offset)) return { kind: "usePath", alias: u.alias.name, span: u.span };
  }
  const decl = f.ast.runbook;
  if (!decl) return undefined;
  if (spanHas(decl.name.span, offset)) return { kind: "runbook", name: decl.name.name, span: decl.name.span };

  const found = f.bindings && localAt(f.bindings, offset);
  if (found) return { kind: "local", local: found.local, span: found.ref?.span ?? found.local.id.span, ref: found.ref };

  for (const [call, res] of f.checked?.calls ?? []) {
    if (!spanHas(call.span, offset)) continue;
    const callee = call.callee;
    if (spanHas(callee.span, offset)) return calleeTarget(callee, res, offset);
    for (const a of call.args) {
      if (a.name && spanHas(a.name.span, offset)) return { kind: "argument", call: res, name: a.name.name, span: a.name.span };
    }
  }
  return undefined;
}

function calleeTarget(callee: ast.NameExpr | ast.MemberExpr, res: CallResolution, offset: number): Target | undefined {
  switch (res.kind) {
    case "runbook":
      return { kind: "runbook", name: res.callee, span: callee.span };
    case "builtin":
      return { kind: "builtin", name: res.fn, span: callee.span };
    case "activity":
      if (res.module === "") return { kind: "builtin", name: res.fn, span: callee.span };
      if (callee.kind === "Member" && !spanHas(callee.property.span, offset)) {
        return { kind: "alias", alias: res.module, span: callee.object.span };
      }
      return { kind: "activity", alias: res.module, fn: res.fn, span: callee.kind === "Member" ? callee.property.span : callee.span };
  }
}
