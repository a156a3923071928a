// Runbook types as TypeScript type text (for the emitted `Locals` interface and casts), and
// type annotations as the author wrote them (for ParamInfo.type).
import type * as ast from "../grammar/ast.js";
import type { Type } from "./types.js";

/** The TypeScript type of a runbook value of type `t`; `Json` wherever nothing more is known. */
export function tsType(t: Type | undefined): string {
  if (!t) return "Json";
  switch (t.kind) {
    case "string":
    case "time":
      return "string";
    case "number":
    case "duration":
      return "number";
    case "bool":
      return "boolean";
    case "null":
      return "null";
    case "any":
    case "error":
      return "Json";
    case "list":
      return `${parenthesize(tsType(t.element))}[]`;
    case "map":
      return `{ [key: string]: ${tsType(t.value)} }`;
    case "record": {
      const names = Object.keys(t.fields);
      if (names.length === 0) return "{ [key: string]: Json }";
      return `{ ${names.map((n) => `${propertyName(n)}: ${tsType(t.fields[n])}`).join("; ")} }`;
    }
    case "optional": {
      const inner = tsType(t.inner);
      return inner === "Json" || inner === "null" || inner.endsWith(" | null") ? inner : `${inner} | null`;
    }
  }
}

function parenthesize(text: string): string {
  return text.includes("|") ? `(${text})` : text;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property name as TS source: bare when it is an identifier, quoted otherwise. */
export function propertyName(name: string): string {
  return IDENTIFIER.test(name) && name !== "__proto__" ? name : JSON.stringify(name);
}

/** A type annotation as written in the source (`list<string>`, `{a: number}`, `T?`). */
export function typeText(node: ast.TypeNode): string {
  switch (node.kind) {
    case "NamedType":
      return node.name;
    case "ListType":
      return `list<${typeText(node.element)}>`;
    case "MapType":
      return `map<${typeText(node.value)}>`;
    case "RecordType":
      return `{${node.fields.map((f) => `${f.name.name}: ${typeText(f.type)}`).join(", ")}}`;
    case "OptionalType":
      return `${typeText(node.inner)}?`;
  }
}
