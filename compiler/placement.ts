// The header's `group "NAME"` and `concurrency (key: EXPR, limit: N)`, checked and turned into
// data (runtime/abi.ts Placement) that the database evaluates when a job is queued (migration
// 0011, runbook_placement). The key is computed before the job runs, from its parameters alone,
// so EXPR may use only parameters without a default, their fields, literals, `+` of strings and
// string interpolation: exactly what a list of text and parameter-path parts can express.
import type * as ast from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { KeyPart, Placement } from "../runtime/abi.js";
import type { Signature } from "./checked.js";
import { M, diag } from "./messages.js";
import { describeType, type Type } from "./types.js";

/** The most jobs one key may run at once (a place is a row; a huge limit is surely a typo). */
export const MAX_LIMIT = 10_000;

/** The runbook's placement, or undefined when the header declares neither clause. */
export function checkPlacement(decl: ast.RunbookDecl, signature: Signature, diagnostics: Diagnostic[]): Placement | undefined {
  const out: Placement = {};
  if (decl.group) out.group = decl.group.name;
  const c = decl.concurrency;
  if (c) {
    const limit = c.limit.kind === "Number" && Number.isInteger(c.limit.value) && c.limit.value >= 1 && c.limit.value <= MAX_LIMIT ? c.limit.value : undefined;
    if (limit === undefined) diagnostics.push(diag(M.badLimit, c.limit.span, []));
    const key = c.key ? keyParts(c.key, signature, diagnostics) : null;
    if (limit !== undefined && key !== undefined) out.concurrency = { key, limit };
  }
  return out.group !== undefined || out.concurrency !== undefined ? out : undefined;
}

/** The key's parts, or undefined after reporting why it cannot be computed from the parameters. */
function keyParts(e: ast.Expr, signature: Signature, diagnostics: Diagnostic[]): KeyPart[] | undefined {
  const parts: KeyPart[] = [];
  const fail = (d: Diagnostic) => (diagnostics.push(d), undefined);

  /** Appends e's text; returns its type, or undefined after reporting. */
  const walk = (e: ast.Expr): Type | undefined => {
    switch (e.kind) {
      case "String":
        parts.push({ text: e.value });
        return { kind: "string" };
      case "Number":
        parts.push({ text: String(e.value) });
        return { kind: "number" };
      case "Bool":
        parts.push({ text: String(e.value) });
        return { kind: "bool" };
      case "Template": {
        for (const p of e.parts) {
          if (typeof p === "string") parts.push({ text: p });
          else if (walk(p) === undefined) return undefined;
        }
        return { kind: "string" };
      }
      case "Binary": {
        if (e.operator !== "+") return fail(diag(M.keyNotParameters, e.span, [`\`${e.operator}\` cannot be used here; only \`+\` of strings and "\${...}" can`]));
        const left = walk(e.left);
        if (left === undefined) return undefined;
        const right = walk(e.right);
        if (right === undefined) return undefined;
        if (left.kind !== "string" || right.kind !== "string") {
          return fail(diag(M.keyNotParameters, e.span, ["`+` joins strings only here"], { hint: 'write "${a}-${b}" to join other values' }));
        }
        return { kind: "string" };
      }
      case "Name":
      case "Member": {
        const path = paramPath(e);
        if (!path) return fail(diag(M.keyNotParameters, e.span, ["only parameters and their fields can be used"]));
        const param = signature.params.find((p) => p.name === path[0]);
        if (!param) return fail(diag(M.keyNotParameters, e.span, [`\`${path[0]}\` is not a parameter of ${signature.name}`]));
        if (param.hasDefault) {
          return fail(diag(M.keyNotParameters, e.span, [`parameter \`${param.name}\` has a default, which is applied only when the job runs`], { hint: "remove the default, or leave the parameter out of the key" }));
        }
        let type = param.type;
        for (const field of path.slice(1)) {
          const next = type.kind === "record" ? type.fields[field] : undefined;
          if (!next) return fail(diag(M.keyNotParameters, e.span, [`${describeType(type)} has no field \`${field}\``]));
          type = next;
        }
        if (type.kind !== "string" && type.kind !== "number" && type.kind !== "bool") return fail(diag(M.keyType, e.span, [describeType(type)]));
        parts.push({ param: path });
        return type;
      }
      default:
        return fail(diag(M.keyNotParameters, e.span, ["only parameters, their fields, literals, `+` of strings and \"${...}\" can be used"]));
    }
  };

  const type = walk(e);
  if (type === undefined) return undefined;
  // Adjacent text parts merge, so the stored key shape is the same however the literal is split.
  const merged: KeyPart[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if ("text" in p && last && "text" in last) merged[merged.length - 1] = { text: last.text + p.text };
    else merged.push(p);
  }
  return merged;
}

/** `host` → ["host"], `target.name` → ["target", "name"]; anything else (`a?.b`, `a[0]`) → null. */
function paramPath(e: ast.Expr): string[] | null {
  if (e.kind === "Name") return [e.name];
  if (e.kind === "Member" && !e.optional) {
    const inner = paramPath(e.object);
    return inner && [...inner, e.property.name];
  }
  return null;
}
