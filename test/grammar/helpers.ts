// Shared helpers for the grammar tests: parse snippets and look at their trees without spans.
import { expect } from "vitest";
import type { Expr, RunbookDecl, SourceFileNode, Stmt, TypeNode } from "../../grammar/ast.js";
import type { Diagnostic } from "../../grammar/diagnostic.js";
import { parse } from "../../grammar/parse.js";

/** A copy of `node` without `span`/`keySpan` (and without undefined fields), for readable expectations. */
export function strip(node: unknown): unknown {
  return JSON.parse(JSON.stringify(node, (key, value) => (key === "span" || key === "keySpan" ? undefined : value)));
}

/** Parses `text` as file `t.runbook` and fails the test on any diagnostic. */
export function parseClean(text: string): SourceFileNode {
  const r = parse("t.runbook", text);
  expect(r.diagnostics.map(show)).toEqual([]);
  return r.ast;
}

/** The runbook of a file whose body is `body` (one statement per line). */
export function runbookOf(body: string, header = "runbook t()"): RunbookDecl {
  const ast = parseClean(`${header} {\n${body}\n}\n`);
  expect(ast.runbook).toBeDefined();
  return ast.runbook!;
}

/** The statements of `body`, spans stripped. */
export function stmts(body: string): unknown[] {
  return runbookOf(body).body.statements.map(strip);
}

/** The one statement of `body`, spans stripped. */
export function stmt(body: string): unknown {
  const all = runbookOf(body).body.statements;
  expect(all).toHaveLength(1);
  return strip(all[0]);
}

/** The expression `src` (as the value of a `let`), spans stripped. */
export function expr(src: string): unknown {
  return strip(rawExpr(src));
}

export function rawExpr(src: string): Expr {
  const s = runbookOf(`let x = ${src}`).body.statements[0] as Stmt;
  expect(s.kind).toBe("Let");
  return (s as { value: Expr }).value;
}

/** The type annotation `src` (of a `let`), spans stripped. */
export function type(src: string): unknown {
  const s = runbookOf(`let x: ${src} = null`).body.statements[0] as { type: TypeNode };
  return strip(s.type);
}

/** Diagnostics of `text` as `LINE:COL CODE` strings. */
export function codes(text: string): string[] {
  return parse("t.runbook", text).diagnostics.map((d) => `${d.span.start.line}:${d.span.start.column} ${d.code}`);
}

export function show(d: Diagnostic): string {
  return `${d.span.start.line}:${d.span.start.column} ${d.code} ${d.message}`;
}

// Short constructors for expected trees.
export const num = (value: number) => ({ kind: "Number", value });
export const str = (value: string) => ({ kind: "String", value });
export const name = (n: string) => ({ kind: "Name", name: n });
export const id = (n: string) => ({ kind: "Identifier", name: n });
export const bin = (operator: string, left: unknown, right: unknown) => ({ kind: "Binary", operator, left, right });
export const un = (operator: string, operand: unknown) => ({ kind: "Unary", operator, operand });
export const call = (callee: unknown, ...args: unknown[]) => ({ kind: "Call", callee, args });
export const arg = (value: unknown, n?: string) => (n === undefined ? { value } : { name: id(n), value });
export const member = (object: unknown, property: string, optional = false) => ({ kind: "Member", object, property: id(property), optional });
export const named = (n: string) => ({ kind: "NamedType", name: n });
export const block = (...statements: unknown[]) => ({ kind: "Block", statements });
export const exprStmt = (expression: unknown) => ({ kind: "ExprStmt", expression });
