// Signatures as an author reads them, for hover and completion details:
//   runbook restart(hosts: list<string>, batch: number = …) -> number
//   infra.create_vm(name: string, size?: string) -> {id: string, ip: string}
//   len(1 argument)
import type * as ast from "../grammar/ast.js";
import type { ActivitySignature, Signature } from "../compiler/checked.js";
import type { BindingKind } from "../compiler/bindings.js";
import { BUILTIN_ACTIVITIES, BUILTIN_FUNCTIONS } from "../compiler/builtins.js";
import { typeToString, type Type } from "../compiler/types.js";

/** `runbook name(a: T, b: U = <default as written>) -> R`, defaults shown from the source text. */
export function runbookSignature(sig: Signature, decl: ast.RunbookDecl | undefined, text: string | undefined): string {
  const params = sig.params.map((p, i) => {
    const d = decl?.params[i]?.default;
    const shown = d && text !== undefined ? text.slice(d.span.start.offset, d.span.end.offset) : "…";
    return `${p.name}: ${typeToString(p.type)}${p.hasDefault ? ` = ${shown}` : ""}`;
  });
  return `runbook ${sig.name}(${params.join(", ")})${sig.returns.kind === "null" ? "" : ` -> ${typeToString(sig.returns)}`}`;
}

export function activitySignature(a: ActivitySignature): string {
  const params = a.params.map((p) => `${p.name}${p.optional ? "?" : ""}: ${typeToString(p.type)}`);
  return `${a.module ? `${a.module}.` : ""}${a.name}(${params.join(", ")}) -> ${typeToString(a.returns)}`;
}

/** A built-in function or activity, or undefined for another name. */
export function builtinSignature(name: string): string | undefined {
  const activity = BUILTIN_ACTIVITIES.get(name);
  if (activity) return `${activitySignature(activity)}  (built-in activity)`;
  const fn = BUILTIN_FUNCTIONS.get(name);
  if (fn) return `${name}(…)  (built-in function, ${fn.arity.text})`;
  return undefined;
}

export function localSignature(kind: BindingKind, name: string, type: Type | undefined): string {
  const word = kind === "param" ? "(parameter)" : kind === "let" ? "let" : kind === "for" ? "(for)" : "(catch)";
  return `${word} ${name}${type ? `: ${typeToString(type)}` : ""}`;
}

/** A code block and, below it, the doc comment. */
export function markdown(code: string, doc?: string): string {
  return "```runbook\n" + code + "\n```" + (doc ? `\n\n${doc}` : "");
}
