// Syntax errors: each RB1xxx code with its position and wording, recovery that reports several
// errors in one file without cascades, and the tree the parser still returns.
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/parse.js";
import { codes, show, strip } from "./helpers.js";

const wrap = (body: string) => `runbook t() {\n${body}\n}\n`;
/** Diagnostics of a runbook body, positions relative to the file (the body starts on line 2). */
const bodyCodes = (body: string) => codes(wrap(body));
const messages = (text: string) => parse("t.runbook", text).diagnostics.map(show);

describe("each syntax diagnostic", () => {
  it("RB1001 unexpected character, control characters shown as U+XXXX", () => {
    expect(messages(wrap("let x = 1 @ 2"))).toEqual(["2:11 RB1001 unexpected character `@`"]);
    expect(messages(wrap("let x = 1\u0000"))).toEqual(["2:10 RB1001 unexpected character `U+0000`"]);
  });

  it("RB1002 unterminated string, single- and triple-quoted; the next line parses normally", () => {
    expect(messages(wrap('let s = "abc\nlet y = 2'))).toEqual(['2:9 RB1002 unterminated string: add the closing `"`']);
    expect(bodyCodes('let s = """abc\nlet y = 2')).toEqual(["2:9 RB1002", "5:1 RB1004"]);
  });

  it("RB1003 expected one thing, found another", () => {
    expect(messages(wrap("let = 5"))).toEqual(["2:5 RB1003 expected a name, found `=`"]);
    expect(messages(wrap("for x of xs {\n}"))).toEqual(["2:7 RB1003 expected `in`, found `of`"]);
    expect(messages(wrap("let x: = 1"))).toEqual(["2:8 RB1030 expected a type, found `=`"]);
  });

  it("RB1004 a bracket left open names where it was opened", () => {
    expect(messages("runbook t() {\n  if x {\n    f()\n")).toEqual([
      "3:8 RB1004 expected `}` to close the block opened at 2:8",
      "3:8 RB1004 expected `}` to close the block opened at 1:13",
    ]);
    expect(messages(wrap("  foo(1, 2\n  let y = 1"))).toEqual(["2:11 RB1004 expected `)` to close the `(` opened at 2:6"]);
    expect(messages(wrap("  let xs = [1, 2\n  log xs"))).toEqual(["2:17 RB1004 expected `]` to close the `[` opened at 2:12"]);
  });

  it("RB1005 a closing bracket with nothing to close; RB1006 one that closes the wrong bracket", () => {
    expect(messages(wrap("  f())"))).toEqual(["2:6 RB1005 `)` has no matching opening bracket"]);
    expect(messages(wrap("  f(1]"))).toEqual([
      "2:6 RB1006 `]` does not match the `(` opened at 2:4: expected `)`",
    ]);
  });

  it("RB1007 nesting deeper than 200 levels", () => {
    expect(bodyCodes(`let x = ${"[".repeat(201)}${"]".repeat(201)}`)).toEqual(["2:209 RB1007"]);
    expect(parse("t.runbook", wrap(`let x = ${"[".repeat(190)}${"]".repeat(190)}`)).diagnostics).toEqual([]);
  });

  it("RB1008 comparisons do not chain, nor do ranges", () => {
    expect(messages(wrap("let b = 1 < x < 3"))).toEqual(["2:15 RB1008 comparisons cannot be chained: `<` follows another comparison"]);
    expect(bodyCodes("let b = a == b != c")).toEqual(["2:16 RB1008"]);
    expect(bodyCodes("let r = 1..2..3")).toEqual(["2:13 RB1008"]);
    expect(bodyCodes("let b = (a < b) == c and 1 < 2")).toEqual([]);
  });

  it("RB1009 a positional argument after a named one", () => {
    expect(messages(wrap('f(size: "x", 1)'))).toEqual(["2:14 RB1009 a positional argument cannot follow a named argument"]);
  });

  it("RB1010 assigning to something that is not a name, field or element", () => {
    expect(bodyCodes("f() = 1")).toEqual(["2:1 RB1010"]);
    expect(bodyCodes("a?.b = 1")).toEqual(["2:1 RB1010"]);
    expect(bodyCodes("1 + x += 2")).toEqual(["2:1 RB1010"]);
  });

  it("RB1011 calling what is not a name or alias.fn; RB1012 start without a call", () => {
    expect(bodyCodes("xs[0](1)")).toEqual(["2:1 RB1011"]);
    expect(bodyCodes("f()()")).toEqual(["2:1 RB1011"]);
    expect(bodyCodes("let j = start deploy")).toEqual(["2:15 RB1012"]);
  });

  it("RB1013 checkpoint labels, signal names, module paths and map keys are plain strings", () => {
    expect(bodyCodes('checkpoint "at ${i}"')).toEqual(["2:12 RB1013"]);
    expect(bodyCodes("checkpoint label")).toEqual(["2:12 RB1013"]);
    expect(bodyCodes('let v = wait "s-${i}"')).toEqual(["2:14 RB1013"]);
    expect(bodyCodes('let m = { "k${i}": 1 }')).toEqual(["2:11 RB1013"]);
    expect(codes('use "./${x}.ts" as m\nrunbook t() {\n}\n')).toEqual(["1:5 RB1013"]);
  });

  it("RB1014 unknown escapes", () => {
    expect(messages(wrap(String.raw`log "a\qb"`))).toEqual(["2:7 RB1014 unknown escape `\\q`"]);
  });

  it("RB1015 unknown and RB1016 repeated retry options", () => {
    expect(bodyCodes("retry (tries: 3) {\n}")).toEqual(["2:8 RB1015"]);
    expect(bodyCodes("retry (delay: 1s, delay: 2s) {\n}")).toEqual(["2:19 RB1016"]);
  });

  it("RB1017 two statements on one line without `;`", () => {
    expect(messages(wrap("let x = 1 let y = 2"))).toEqual(["2:11 RB1017 expected the end of the statement, found `let`"]);
    const r = parse("t.runbook", wrap("let x = 1 2\nlog x"));
    expect(r.ast.runbook!.body.statements.map((s) => s.kind)).toEqual(["Let", "Stream"]);
  });

  it("RB1018 type arguments on a type that takes none, and list/map without one", () => {
    expect(bodyCodes("let x: string<number> = 1")).toEqual(["2:8 RB1018"]);
    expect(bodyCodes("let x: list = []")).toEqual(["2:8 RB1018"]);
  });

  it("RB1019 no runbook; RB1020 a second runbook; RB1028 use after the runbook", () => {
    expect(codes("")).toEqual(["1:1 RB1019"]);
    expect(codes("# only a comment\n")).toEqual(["1:1 RB1019"]);
    expect(codes("runbook a() {\n}\nrunbook b() {\n}\n")).toEqual(["3:1 RB1020"]);
    expect(codes('runbook a() {\n}\nuse "./m.ts" as m\n')).toEqual(["3:1 RB1028"]);
  });

  it("RB1021 stops after 100 diagnostics", () => {
    const r = parse("t.runbook", wrap("@\n".repeat(150)));
    expect(r.diagnostics).toHaveLength(101);
    expect(r.diagnostics[100].code).toBe("RB1021");
  });

  it("RB1022 a number too large to represent", () => {
    expect(bodyCodes("let x = 1e999")).toEqual(["2:9 RB1022"]);
  });

  it("RB1023 `&&`, `||` and `!` say what to write instead, and parse as and/or/not", () => {
    const r = parse("t.runbook", wrap("let b = !a && c || d"));
    expect(r.diagnostics.map(show)).toEqual([
      "2:9 RB1023 `!` is written `not` in runbooks",
      "2:12 RB1023 `&&` is written `and` in runbooks",
      "2:17 RB1023 `||` is written `or` in runbooks",
    ]);
    expect((strip(r.ast.runbook!.body.statements[0]) as { value: { operator: string } }).value.operator).toBe("or");
  });

  it("RB1024 empty interpolation; RB1025 unterminated interpolation", () => {
    expect(bodyCodes('log "a ${} b"')).toEqual(["2:8 RB1024"]);
    expect(messages(wrap('log "a ${x + 1 b"'))).toEqual(["2:8 RB1025 unterminated interpolation: add the closing `}`"]);
    expect(bodyCodes('log "a ${x\nlog "b"')).toEqual(["2:8 RB1025"]);
  });

  it("RB1026 try without catch or finally", () => {
    expect(bodyCodes("try {\n}")).toEqual(["2:1 RB1026"]);
  });

  it("RB1027 trees too deep for later stages (long operator chains, else-if chains)", () => {
    expect(bodyCodes(`let x = 1${" + 1".repeat(2000)}`)).toEqual(["1:1 RB1027"]);
    expect(bodyCodes(`if a {\n}${" else if a {\n}".repeat(1200)}`)).toEqual(["1:1 RB1027"]);
    expect(bodyCodes(`let x = 1${" + 1".repeat(500)}`)).toEqual([]);
  });

  it("RB1029 a line that cannot start a statement; RB1030 no expression where one is needed", () => {
    expect(messages(wrap("= 5"))).toEqual(["2:1 RB1029 expected a statement, found `=`"]);
    expect(messages("let x = 1\nrunbook t() {\n}\n")).toEqual(["1:1 RB1029 expected `use` or `runbook`, found `let`"]);
    expect(messages(wrap("let x = * 2"))).toEqual(["2:9 RB1030 expected an expression, found `*`"]);
    expect(messages(wrap("let x =\n"))).toEqual(["4:1 RB1030 expected an expression, found `}`"]);
    expect(messages(wrap("let x =\nlet y = 1"))).toEqual(["3:1 RB1030 expected an expression, found `let`"]);
  });
});

describe("recovery", () => {
  it("reports every broken statement and keeps the good ones between them", () => {
    const text = wrap(["let a = 1", "let = 2", "log a", "x = = 3", "if a {", "  let b = (1 + ", "  log b", "}", "fail"].join("\n"));
    const r = parse("t.runbook", text);
    expect(r.diagnostics.map((d) => `${d.span.start.line} ${d.code}`)).toEqual(["3 RB1003", "5 RB1030", "7 RB1004", "10 RB1030"]);
    const kinds = r.ast.runbook!.body.statements.map((s) => s.kind);
    expect(kinds).toEqual(["Let", "Stream", "If"]);
    const inner = (r.ast.runbook!.body.statements[2] as { then: { statements: { kind: string }[] } }).then.statements;
    // `let b = (1 +` failed, but `b` stays declared (with an ErrorExpr) so `log b` is no news.
    expect(inner.map((s) => s.kind)).toEqual(["Let", "Stream"]);
    expect((inner[0] as unknown as { value: { kind: string } }).value.kind).toBe("ErrorExpr");
  });

  it("one missing `}` gives one diagnostic, placed by indentation where the block should end", () => {
    const text = "runbook t() {\n  if a {\n    f()\n  log 1\n  log 2\n  log 3\n}\n";
    expect(messages(text)).toEqual(["3:8 RB1004 expected `}` to close the block opened at 2:8"]);
    const r = parse("t.runbook", text);
    expect(r.ast.runbook!.body.statements.map((s) => s.kind)).toEqual(["If", "Stream", "Stream", "Stream"]);
    const nested = "runbook t() {\n  for i in xs {\n    if i > 1 {\n      log i\n  }\n  log 2\n}\n";
    expect(messages(nested)).toEqual(["4:12 RB1004 expected `}` to close the block opened at 3:14"]);
  });

  it("a `}` less indented than its block's first line is fine when the braces balance", () => {
    expect(codes("runbook t() {\n  if a {\n    f()\n}\n}\n")).toEqual([]);
  });

  it("one missing `)` in a call gives one diagnostic and the next statements parse", () => {
    const r = parse("t.runbook", wrap("foo(1, 2\nlet y = 3\nlog y"));
    expect(r.diagnostics.map(show)).toEqual(["2:9 RB1004 expected `)` to close the `(` opened at 2:4"]);
    expect(r.ast.runbook!.body.statements.map((s) => s.kind)).toEqual(["ExprStmt", "Let", "Stream"]);
  });

  it("a header with a missing `)` still parses its body", () => {
    const r = parse("t.runbook", "runbook t(a: number {\n  log a\n}\n");
    expect(r.diagnostics.map(show)).toEqual(["1:21 RB1004 expected `)` to close the `(` opened at 1:10"]);
    expect(r.ast.runbook!.params.map((p) => p.name.name)).toEqual(["a"]);
    expect(r.ast.runbook!.body.statements.map((s) => s.kind)).toEqual(["Stream"]);
  });

  it("a header error keeps the name and the body", () => {
    const r = parse("t.runbook", "runbook t(a number) {\n  log 1\n}\n");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["RB1003"]);
    expect(r.ast.runbook!.name.name).toBe("t");
    expect(r.ast.runbook!.body.statements.map((s) => s.kind)).toEqual(["Stream"]);
  });

  it("every diagnostic carries file, a span inside the file and severity error", () => {
    const text = wrap('let = 1\nlog "x\nf(]\n');
    const r = parse("dir/t.runbook", text);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    for (const d of r.diagnostics) {
      expect(d.severity).toBe("error");
      expect(d.span.file).toBe("dir/t.runbook");
      expect(d.span.start.offset).toBeGreaterThanOrEqual(0);
      expect(d.span.end.offset).toBeLessThanOrEqual(text.length);
      expect(d.span.start.offset).toBeLessThanOrEqual(d.span.end.offset);
    }
  });
});
