// Hover: a local's type (as inferred at that point: a `T?` known not null shows as `T`), a
// runbook's or activity's signature with its doc comment, a built-in's signature, a named
// argument's parameter.
import type { Hover } from "vscode-languageserver";
import type { Analysis, FileAnalysis } from "./analysis.js";
import { activityDoc, runbookDoc } from "./docs.js";
import { activitySignature, builtinSignature, localSignature, markdown, runbookSignature } from "./describe.js";
import { targetAt, type Target } from "./locate.js";
import { spanToRange } from "./positions.js";
import { BUILTIN_ACTIVITIES } from "../compiler/builtins.js";
import { typeToString } from "../compiler/types.js";

export function hover(a: Analysis, f: FileAnalysis, offset: number): Hover | null {
  const t = targetAt(a, f, offset);
  if (!t) return null;
  const value = hoverText(a, f, t);
  return value === undefined ? null : { contents: { kind: "markdown", value }, range: spanToRange(t.span) };
}

function hoverText(a: Analysis, f: FileAnalysis, t: Target): string | undefined {
  switch (t.kind) {
    case "local": {
      // At a reference the checker's type of that very expression (narrowing included).
      const type = (t.ref && f.checked?.types.get(t.ref)) ?? t.local.type;
      return markdown(localSignature(t.local.kind, t.local.name, type));
    }
    case "runbook":
      return runbookHover(a, t.name);
    case "activity": {
      const fn = f.modules.get(t.alias)?.functions.get(t.fn);
      return fn && markdown(activitySignature(fn), activityDoc(fn.declaration));
    }
    case "builtin": {
      const sig = builtinSignature(t.name);
      return sig && markdown(sig);
    }
    case "argument": {
      const res = t.call;
      if (res.kind === "runbook") {
        const p = a.runbooks.get(res.callee)?.signature.params.find((x) => x.name === t.name);
        return p && markdown(`(parameter of ${res.callee}) ${p.name}: ${typeToString(p.type)}${p.hasDefault ? " (has a default)" : ""}`);
      }
      if (res.kind === "activity") {
        const sig = res.module === "" ? BUILTIN_ACTIVITIES.get(res.fn) : f.modules.get(res.module)?.functions.get(res.fn);
        const p = sig?.params.find((x) => x.name === t.name);
        return p && markdown(`(argument of ${res.module ? `${res.module}.` : ""}${res.fn}) ${p.name}${p.optional ? "?" : ""}: ${typeToString(p.type)}`);
      }
      return undefined;
    }
    case "alias":
    case "usePath": {
      const m = f.modules.get(t.alias);
      const use = f.ast.uses.find((u) => u.alias.name === t.alias);
      if (!m || !use) return undefined;
      const fns = [...m.functions.keys()];
      const doc = m.error ?? (fns.length ? `Activities: ${fns.map((n) => `\`${n}\``).join(", ")}` : "No exported functions.");
      return markdown(`use "${use.path}" as ${t.alias}`, doc);
    }
  }
}

export function runbookHover(a: Analysis, name: string): string | undefined {
  const rb = a.runbooks.get(name);
  if (!rb) return undefined;
  const text = a.files.get(rb.file)?.text;
  return markdown(runbookSignature(rb.signature, rb.decl, text), text === undefined ? undefined : runbookDoc(text, rb.decl.span.start.offset));
}
