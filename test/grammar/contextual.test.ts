// Reserved and contextual words (grammar/contextual.ts, docs/language.md): statement words are
// names wherever they cannot be their keyword, the ambiguous line starts are decided by the
// documented rule, and a reserved word used as a name is RB1032 with a rename hint.
import { describe, expect, it } from "vitest";
import type { Stmt } from "../../grammar/ast.js";
import { parse } from "../../grammar/parse.js";
import { parseClean, show } from "./helpers.js";

/** The kind of each statement of `body` (with what it assigns or binds, where that helps). */
function kinds(body: string, header = "runbook t()"): string[] {
  const ast = parseClean(`${header} {\n${body}\n}\n`);
  return ast.runbook!.body.statements.map(shape);
}

function shape(s: Stmt): string {
  const v = s as unknown as { kind: string; value?: { kind: string }; expression?: { kind: string }; target?: { kind: string }; operator?: string };
  if (v.kind === "Assign") return `Assign ${v.target!.kind} ${v.operator} ${v.value!.kind}`;
  if (v.kind === "Let" || v.kind === "Stream") return `${v.kind} ${v.value!.kind}`;
  if (v.kind === "ExprStmt") return `ExprStmt ${v.expression!.kind}`;
  return v.kind;
}

const messages = (text: string) => parse("t.runbook", text).diagnostics.map(show);

describe("contextual words as names", () => {
  const words = ["start", "timeout", "output", "log", "warn", "error", "retry", "sleep", "wait", "fail", "suspend", "await", "checkpoint"];

  it.each(words)("`%s` as a parameter, a local, a loop variable, a catch variable, a field and a map key", (w) => {
    const body = [
      `let ${w} = ${w}_in`,
      `${w} = ${w} + 1`,
      `${w} += 1`,
      `let m = {${w}: ${w}}`,
      `m.${w} = m.${w}`,
      `for ${w} in [1] { }`,
      `for i, ${w} in [1] { }`,
      `try { } catch ${w} { }`,
      `let r = f(${w}: ${w})`,
    ].join("\n");
    expect(kinds(body, `runbook t(${w}_in: number, ${w}: number = 1) -> {${w}: number}`)).toEqual([
      "Let Identifier",
      "Assign Identifier = Binary",
      "Assign Identifier += Number",
      "Let Map",
      "Assign Member = Member",
      "For",
      "For",
      "Try",
      "Let Call",
    ].map((k) => k.replace("Identifier", "Name")));
  });

  it.each(words)("`%s` as a runbook name and a module alias", (w) => {
    const r = parse("t.runbook", `use "./a.ts" as ${w}\nrunbook ${w}() {\n  ${w}.f()\n}\n`);
    expect(r.diagnostics.map(show)).toEqual([]);
    expect(r.ast.runbook!.name.name).toBe(w);
  });

  it("inside expressions and interpolations a statement word is a name", () => {
    expect(kinds('let x = [output, log, error]\nlog "${wait} ${retry} ${output.x}"\nlet y = f(sleep, fail)')).toEqual([
      "Let List",
      "Stream Template",
      "Let Call",
    ]);
    expect(kinds("if start { }\nwhile timeout > 1 { }\nif a == output {\n}")).toEqual(["If", "While", "If"]);
  });
});

describe("the rule at the start of a statement", () => {
  it("a statement word followed by an operand is the statement", () => {
    expect(kinds('output x\noutput (1)\noutput [1, 2]\noutput -1\noutput {a: 1}\nlog not x\nerror "e"\nwarn output\nfail "f"')).toEqual([
      "Stream Name", "Stream Number", "Stream List", "Stream Number", "Stream Map", "Stream Unary", "Stream String", "Stream Name", "Fail",
    ]);
    expect(kinds("sleep 1s\nsuspend\nsuspend \"why\"\ncheckpoint\ncheckpoint \"c\"\nretry { }\nretry (attempts: 2) { }")).toEqual([
      "Sleep", "Suspend", "Suspend", "Checkpoint", "Checkpoint", "Retry", "Retry",
    ]);
  });

  it("an assignment anywhere on the line outside brackets makes it a name", () => {
    expect(kinds("output = 3\noutput[0] = 1\noutput[i].x += 2\nretry.n -= 1\nlog\n  .x = 1")).toEqual([
      "Assign Name = Number", "Assign Index = Number", "Assign Member += Number", "Assign Member -= Number", "Assign Member = Number",
    ]);
  });

  it("`.`, `?.` or a binary operator other than `-` after it makes it a name", () => {
    expect(kinds("output.x\noutput?.x\nlog + 1\nerror ?? 2\nsleep and x\nsleep\n  + 1")).toEqual([
      "ExprStmt Member", "ExprStmt Member", "ExprStmt Binary", "ExprStmt Binary", "ExprStmt Binary", "ExprStmt Binary",
    ]);
  });

  it("`wait`, `start`, `await` are their expression when an operand follows, else names", () => {
    expect(kinds('wait "sig"\nlet a = wait "s" timeout 5m\nlet b = start f()\nlet c = await b\nlet d = await await b')).toEqual([
      "ExprStmt Wait", "Let Wait", "Let Start", "Let Await", "Let Await",
    ]);
    expect(kinds("wait + 1\nlet a = wait - 1\nlet b = [start, await]\nstart = 2\nlet c = wait\nlet t = timeout")).toEqual([
      "ExprStmt Binary", "Let Binary", "Let List", "Assign Name = Number", "Let Name", "Let Name",
    ]);
  });

  it("`timeout` is its keyword only right after `wait`'s operand", () => {
    expect(kinds('let a = wait "s" timeout timeout\nlet b = wait "s" timeout timeout\nlet c = timeout')).toEqual([
      "Let Wait", "Let Wait", "Let Name",
    ]);
  });

  it("without a `)`, a statement word first on its line inside brackets still closes them", () => {
    expect(messages("runbook t() {\n  let x = f(1,\n  output x\n}\n")).toEqual(["2:15 RB1004 expected `)` to close the `(` opened at 2:12"]);
    expect(kinds("let x = f(\n  output,\n  log\n)")).toEqual(["Let Call"]);
  });
});

describe("reserved words", () => {
  it("RB1032 where only a name can stand, with a rename hint; parsing goes on with the name", () => {
    const r = parse("t.runbook", "runbook t(if: number, for: string) {\n  let in = 1\n  for not in xs { }\n  try { } catch true { }\n  while = 2\n}\n");
    expect(r.diagnostics.map(show)).toEqual([
      "1:11 RB1032 `if` is a reserved word",
      "1:23 RB1032 `for` is a reserved word",
      "2:7 RB1032 `in` is a reserved word",
      "3:7 RB1032 `not` is a reserved word",
      "4:17 RB1032 `true` is a reserved word",
      "5:3 RB1032 `while` is a reserved word",
    ]);
    expect(r.diagnostics[0].hint).toBe("rename it, for example to `if_` or a longer name");
    expect(r.ast.runbook!.params.map((p) => p.name.name)).toEqual(["if", "for"]);
    expect(messages('use "./a.ts" as or\nrunbook t() {\n}\n')).toEqual(["1:17 RB1032 `or` is a reserved word"]);
  });

  it("`let = 1` is a `let` missing its name, not an assignment to `let`", () => {
    expect(messages("runbook t() {\n  let = 5\n}\n")).toEqual(["2:7 RB1003 expected a name, found `=`"]);
  });

  it("reserved words stay usable as field names and map keys", () => {
    expect(kinds("let m = {if: 1, for: 2}\nm.if = m.for")).toEqual(["Let Map", "Assign Member = Member"]);
  });
});

describe("`parallel for` inside brackets", () => {
  // The `for` after `parallel` starts no statement, so it does not close the brackets (as a
  // statement keyword inside brackets does, grammar/layout.ts): the tree is whole, and the
  // checker says to bind it with `let` first (RB2022, as for `len(await j)`).
  it("parses in a call, a list, a map and parentheses, the block spanning lines", () => {
    const body = [
      "let a = len(parallel for h in hosts {",
      "  log h",
      "  return h",
      "})",
      "let b = [parallel for h in hosts (limit: 2) { return h }]",
      "let c = {all: parallel for h in hosts { return h }}",
      "let d = (parallel for h in hosts { return h })",
      "output a",
    ].join("\n");
    expect(kinds(body, "runbook t(hosts: list<string>)")).toEqual(["Let Call", "Let List", "Let Map", "Let Parallel", "Stream Name"]);
    expect(messages("runbook t(hosts: list<string>) {\n  f(1, parallel for h in hosts { }, 2)\n}\n")).toEqual([]);
  });
});
