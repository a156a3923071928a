// One test (or more) per row of LANGUAGE.md's tables, asserting the exact AST (spans stripped),
// plus the layout rules, precedence and associativity, and spans.
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/parse.js";
import {
  arg, bin, block, call, expr, exprStmt, id, member, name, named, num, parseClean, rawExpr, runbookOf, stmt, stmts, str, strip, type, un,
} from "./helpers.js";

describe("values and types (LANGUAGE.md: Values and types)", () => {
  it("string: plain, with escapes", () => {
    expect(expr(`"plain"`)).toEqual(str("plain"));
    expect(expr(String.raw`"a\nb\tc\"d\\e\$f"`)).toEqual(str('a\nb\tc"d\\e$f'));
    expect(expr(`""`)).toEqual(str(""));
    expect(expr(`"cost: $5"`)).toEqual(str("cost: $5"));
    expect(expr(String.raw`"\${not interpolated}"`)).toEqual(str("${not interpolated}"));
  });

  it("string: interpolation gives a Template with alternating parts", () => {
    expect(expr('"a ${x} b"')).toEqual({ kind: "Template", parts: ["a ", name("x"), " b"] });
    expect(expr('"${x}"')).toEqual({ kind: "Template", parts: [name("x")] });
    expect(expr('"${a}${b}"')).toEqual({ kind: "Template", parts: [name("a"), name("b")] });
    expect(expr('"v=${vm.id}!"')).toEqual({ kind: "Template", parts: ["v=", member(name("vm"), "id"), "!"] });
  });

  it("string: interpolations hold any expression, strings and maps included", () => {
    expect(expr('"n=${len(xs) + 1}"')).toEqual({
      kind: "Template",
      parts: ["n=", bin("+", call(name("len"), arg(name("xs"))), num(1))],
    });
    expect(expr('"${f("x}") + "y"}"')).toEqual({
      kind: "Template",
      parts: [bin("+", call(name("f"), arg(str("x}"))), str("y"))],
    });
    expect(expr('"${ {a: 1}["a"] }"')).toEqual({
      kind: "Template",
      parts: [{ kind: "Index", object: { kind: "Map", entries: [{ key: "a", value: num(1) }] }, index: str("a") }],
    });
    expect(expr('"outer ${"inner ${x}"}"')).toEqual({
      kind: "Template",
      parts: ["outer ", { kind: "Template", parts: ["inner ", name("x")] }],
    });
    expect(expr('"${true} ${null}"')).toEqual({ kind: "Template", parts: [{ kind: "Bool", value: true }, " ", { kind: "Null" }] });
  });

  it('string: """multi-line""" drops one leading line break, keeps the rest, interpolates', () => {
    expect(expr('"""\nline 1\n  line 2\n"""')).toEqual(str("line 1\n  line 2\n"));
    expect(expr('"""one "quoted" line"""')).toEqual(str('one "quoted" line'));
    expect(expr('"""\nhi ${name}\n"""')).toEqual({ kind: "Template", parts: ["hi ", name("name"), "\n"] });
  });

  it("string: CRLF inside a triple-quoted string becomes LF", () => {
    const ast = parseClean('runbook t() {\r\n  let s = """\r\na\r\nb"""\r\n}\r\n');
    expect(strip((ast.runbook!.body.statements[0] as { value: unknown }).value)).toEqual(str("a\nb"));
  });

  it("number: 42, 3.5, -1e3 (a minus on a literal folds into it)", () => {
    expect(expr("42")).toEqual(num(42));
    expect(expr("3.5")).toEqual(num(3.5));
    expect(expr("-1e3")).toEqual(num(-1000));
    expect(expr("2.5E-2")).toEqual(num(0.025));
    expect(expr("-x")).toEqual(un("-", name("x")));
    expect(expr("- -1")).toEqual(un("-", num(-1)));
  });

  it("bool and null", () => {
    expect(expr("true")).toEqual({ kind: "Bool", value: true });
    expect(expr("false")).toEqual({ kind: "Bool", value: false });
    expect(expr("null")).toEqual({ kind: "Null" });
  });

  it("duration: 250ms, 10s, 2m, 1h, 1d and sums like 1h30m, in milliseconds", () => {
    const ms = (src: string) => (expr(src) as { milliseconds: number }).milliseconds;
    expect(expr("250ms")).toEqual({ kind: "Duration", milliseconds: 250 });
    expect(ms("10s")).toBe(10_000);
    expect(ms("2m")).toBe(120_000);
    expect(ms("1h")).toBe(3_600_000);
    expect(ms("1d")).toBe(86_400_000);
    expect(ms("1h30m")).toBe(5_400_000);
    expect(ms("1d2h3m4s5ms")).toBe(86_400_000 + 7_200_000 + 180_000 + 4_000 + 5);
    expect(ms("1.5s")).toBe(1_500);
  });

  it("time: now() and time(...) are ordinary calls (not keywords)", () => {
    expect(expr("now()")).toEqual(call(name("now")));
    expect(expr('time("2026-01-01T00:00:00Z")')).toEqual(call(name("time"), arg(str("2026-01-01T00:00:00Z"))));
    expect(expr("time")).toEqual(name("time"));
  });

  it("list literal, with a trailing comma and across lines", () => {
    expect(expr("[1, 2, 3]")).toEqual({ kind: "List", elements: [num(1), num(2), num(3)] });
    expect(expr("[]")).toEqual({ kind: "List", elements: [] });
    expect(expr("[\n  1,\n  2,\n]")).toEqual({ kind: "List", elements: [num(1), num(2)] });
  });

  it("map literal: identifier and string keys, keywords as keys, across lines", () => {
    expect(expr('{ region: "eu", "odd key": 1 }')).toEqual({
      kind: "Map",
      entries: [
        { key: "region", value: str("eu") },
        { key: "odd key", value: num(1) },
      ],
    });
    expect(expr("{}")).toEqual({ kind: "Map", entries: [] });
    expect(expr("{\n  error: 1,\n  timeout: 2,\n}")).toEqual({
      kind: "Map",
      entries: [
        { key: "error", value: num(1) },
        { key: "timeout", value: num(2) },
      ],
    });
  });

  it("types: named, list<T>, map<T>, record {a: T}, T?, any", () => {
    for (const n of ["string", "number", "bool", "duration", "time", "any"]) expect(type(n)).toEqual(named(n));
    expect(type("list<string>")).toEqual({ kind: "ListType", element: named("string") });
    expect(type("map<number>")).toEqual({ kind: "MapType", value: named("number") });
    expect(type("list<map<any>>")).toEqual({ kind: "ListType", element: { kind: "MapType", value: named("any") } });
    expect(type("{a: string, b: number}")).toEqual({
      kind: "RecordType",
      fields: [
        { name: id("a"), type: named("string") },
        { name: id("b"), type: named("number") },
      ],
    });
    expect(type("string?")).toEqual({ kind: "OptionalType", inner: named("string") });
    expect(type("list<string?>?")).toEqual({
      kind: "OptionalType",
      inner: { kind: "ListType", element: { kind: "OptionalType", inner: named("string") } },
    });
    expect(type("{\n  id: string,\n  tags: list<string>,\n}?")).toEqual({
      kind: "OptionalType",
      inner: {
        kind: "RecordType",
        fields: [
          { name: id("id"), type: named("string") },
          { name: id("tags"), type: { kind: "ListType", element: named("string") } },
        ],
      },
    });
  });
});

describe("declarations (LANGUAGE.md: Declarations)", () => {
  it("use PATH as NAME", () => {
    const ast = parseClean('use "./activities.ts" as infra\nuse "../x.ts" as x\nrunbook t() {\n}\n');
    expect(ast.uses.map(strip)).toEqual([
      { kind: "Use", path: "./activities.ts", alias: id("infra") },
      { kind: "Use", path: "../x.ts", alias: id("x") },
    ]);
  });

  it("runbook NAME(PARAM: TYPE (= DEFAULT)?, ...) (-> TYPE)? { BODY }", () => {
    const r = runbookOf("", 'runbook build_vm(name: string, size: string = "small", retries: number = 3) -> string');
    expect(strip(r)).toEqual({
      kind: "Runbook",
      name: id("build_vm"),
      params: [
        { kind: "Param", name: id("name"), type: named("string") },
        { kind: "Param", name: id("size"), type: named("string"), default: str("small") },
        { kind: "Param", name: id("retries"), type: named("number"), default: num(3) },
      ],
      returnType: named("string"),
      body: block(),
    });
  });

  it("a header without parameters or result, and parameters across lines with a trailing comma", () => {
    expect(strip(runbookOf("", "runbook t()"))).toEqual({ kind: "Runbook", name: id("t"), params: [], body: block() });
    const r = runbookOf("", "runbook t(\n  a: number,\n  b: list<string> = [],\n) -> map<any>?");
    expect(r.params.map((p) => p.name.name)).toEqual(["a", "b"]);
    expect(strip(r.returnType)).toEqual({ kind: "OptionalType", inner: { kind: "MapType", value: named("any") } });
  });

  it("the example of LANGUAGE.md parses to the expected tree", () => {
    const ast = parseClean(`# Builds a VM, then configures it. A crash after "vm-created" resumes at configure.
use "./activities.ts" as infra

runbook build_vm(name: string, size: string = "small", retries: number = 3) -> string {
  let vm = infra.createVm(name: name, size: size)
  checkpoint "vm-created"
  retry (attempts: retries, delay: 30s, backoff: 2) {
    infra.configure(id: vm.id)
  }
  log "configured \${vm.id}"
  return vm.id
}
`);
    expect(ast.runbook!.body.statements.map((s) => s.kind)).toEqual(["Let", "Checkpoint", "Retry", "Stream", "Return"]);
    expect(strip(ast.runbook!.body.statements[0])).toEqual({
      kind: "Let",
      name: id("vm"),
      value: call(member(name("infra"), "createVm"), arg(name("name"), "name"), arg(name("size"), "size")),
    });
  });
});

describe("statements (LANGUAGE.md: Statements)", () => {
  it("let x (: T)? = e", () => {
    expect(stmt("let x = 1")).toEqual({ kind: "Let", name: id("x"), value: num(1) });
    expect(stmt("let x: list<string> = []")).toEqual({
      kind: "Let",
      name: id("x"),
      type: { kind: "ListType", element: named("string") },
      value: { kind: "List", elements: [] },
    });
  });

  it("x = e, x.f = e, x[i] = e, x += e, x -= e, and nested targets", () => {
    expect(stmt("x = 1")).toEqual({ kind: "Assign", target: name("x"), operator: "=", value: num(1) });
    expect(stmt("x.f = 1")).toEqual({ kind: "Assign", target: member(name("x"), "f"), operator: "=", value: num(1) });
    expect(stmt("x[i] = 1")).toEqual({ kind: "Assign", target: { kind: "Index", object: name("x"), index: name("i") }, operator: "=", value: num(1) });
    expect(stmt("x += 1")).toEqual({ kind: "Assign", target: name("x"), operator: "+=", value: num(1) });
    expect(stmt("x -= 1")).toEqual({ kind: "Assign", target: name("x"), operator: "-=", value: num(1) });
    expect(stmt("x.f[i] += step(i)")).toEqual({
      kind: "Assign",
      target: { kind: "Index", object: member(name("x"), "f"), index: name("i") },
      operator: "+=",
      value: call(name("step"), arg(name("i"))),
    });
  });

  it("if e {} else if e {} else {}: the else-if chain nests", () => {
    expect(stmt("if a { f() } else if b { g() } else { h() }")).toEqual({
      kind: "If",
      condition: name("a"),
      then: block(exprStmt(call(name("f")))),
      otherwise: {
        kind: "If",
        condition: name("b"),
        then: block(exprStmt(call(name("g")))),
        otherwise: block(exprStmt(call(name("h")))),
      },
    });
    expect(stmt("if a {\n}")).toEqual({ kind: "If", condition: name("a"), then: block() });
  });

  it("`else`, `catch` and `finally` may start the line after a `}`", () => {
    expect(stmt("if a {\n  f()\n}\nelse {\n  g()\n}")).toEqual({
      kind: "If",
      condition: name("a"),
      then: block(exprStmt(call(name("f")))),
      otherwise: block(exprStmt(call(name("g")))),
    });
    expect((stmt("try {\n}\ncatch e {\n}\nfinally {\n}") as { kind: string }).kind).toBe("Try");
  });

  it("while e {}", () => {
    expect(stmt("while i < 3 { i += 1 }")).toEqual({
      kind: "While",
      condition: bin("<", name("i"), num(3)),
      body: block({ kind: "Assign", target: name("i"), operator: "+=", value: num(1) }),
    });
  });

  it("for x in e {}, over a range, and for k, v in m {}", () => {
    expect(stmt("for x in xs {\n}")).toEqual({ kind: "For", names: [id("x")], iterable: name("xs"), body: block() });
    expect(stmt("for i in 1..n {\n}")).toEqual({ kind: "For", names: [id("i")], iterable: bin("..", num(1), name("n")), body: block() });
    expect(stmt("for k, v in m {\n}")).toEqual({ kind: "For", names: [id("k"), id("v")], iterable: name("m"), body: block() });
  });

  it("break, continue", () => {
    expect(stmts("while true {\n  break\n  continue\n}")).toEqual([
      { kind: "While", condition: { kind: "Bool", value: true }, body: block({ kind: "Break" }, { kind: "Continue" }) },
    ]);
  });

  it("return e?", () => {
    expect(stmts("return\nreturn 1 + 2")).toEqual([{ kind: "Return" }, { kind: "Return", value: bin("+", num(1), num(2)) }]);
  });

  it('checkpoint ("label")?', () => {
    expect(stmts('checkpoint\ncheckpoint "vm-created"')).toEqual([
      { kind: "Checkpoint" },
      { kind: "Checkpoint", label: str("vm-created") },
    ]);
  });

  it("sleep e", () => {
    expect(stmt("sleep 2m")).toEqual({ kind: "Sleep", duration: { kind: "Duration", milliseconds: 120_000 } });
    expect(stmt("sleep pause * 2")).toEqual({ kind: "Sleep", duration: bin("*", name("pause"), num(2)) });
  });

  it('suspend ("reason")?', () => {
    expect(stmts('suspend\nsuspend "needs a human"')).toEqual([{ kind: "Suspend" }, { kind: "Suspend", reason: str("needs a human") }]);
  });

  it('let v = wait "NAME" (timeout e)?', () => {
    expect(stmt('let v = wait "approve"')).toEqual({ kind: "Let", name: id("v"), value: { kind: "Wait", signal: str("approve") } });
    expect(stmt('let v = wait "approve" timeout 1h')).toEqual({
      kind: "Let",
      name: id("v"),
      value: { kind: "Wait", signal: str("approve"), timeout: { kind: "Duration", milliseconds: 3_600_000 } },
    });
    expect(stmt('wait "go"')).toEqual(exprStmt({ kind: "Wait", signal: str("go") }));
  });

  it("output e, log e, warn e, error e", () => {
    expect(stmts('output {ok: true}\nlog "verbose"\nwarn "careful"\nerror "bad"')).toEqual([
      { kind: "Stream", stream: "output", value: { kind: "Map", entries: [{ key: "ok", value: { kind: "Bool", value: true } }] } },
      { kind: "Stream", stream: "log", value: str("verbose") },
      { kind: "Stream", stream: "warn", value: str("careful") },
      { kind: "Stream", stream: "error", value: str("bad") },
    ]);
  });

  it("fail e", () => {
    expect(stmt('fail "disk full on ${host}"')).toEqual({ kind: "Fail", message: { kind: "Template", parts: ["disk full on ", name("host")] } });
  });

  it("try {} catch err {} finally {}, and with only one of catch/finally", () => {
    expect(stmt("try { a() } catch err { log err.message } finally { b() }")).toEqual({
      kind: "Try",
      block: block(exprStmt(call(name("a")))),
      handler: { param: id("err"), body: block({ kind: "Stream", stream: "log", value: member(name("err"), "message") }) },
      finalizer: block(exprStmt(call(name("b")))),
    });
    expect(stmt("try { a() } catch e { }")).toEqual({
      kind: "Try",
      block: block(exprStmt(call(name("a")))),
      handler: { param: id("e"), body: block() },
    });
    expect(stmt("try { a() } finally { b() }")).toEqual({
      kind: "Try",
      block: block(exprStmt(call(name("a")))),
      finalizer: block(exprStmt(call(name("b")))),
    });
  });

  it("retry (attempts: n, delay: d, backoff: f)? {} with any subset of options", () => {
    const body = block(exprStmt(call(name("a"))));
    expect(stmt("retry { a() }")).toEqual({ kind: "Retry", body });
    expect(stmt("retry () { a() }")).toEqual({ kind: "Retry", body });
    expect(stmt("retry (attempts: 5, delay: 30s, backoff: 2) { a() }")).toEqual({
      kind: "Retry",
      attempts: num(5),
      delay: { kind: "Duration", milliseconds: 30_000 },
      backoff: num(2),
      body,
    });
    expect(stmt("retry (backoff: 1.5, attempts: n) { a() }")).toEqual({ kind: "Retry", attempts: name("n"), backoff: num(1.5), body });
    expect(stmt("retry (delay: 1s,) { a() }")).toEqual({ kind: "Retry", delay: { kind: "Duration", milliseconds: 1_000 }, body });
  });

  it("NAME(args): an inline call of a runbook or an activity", () => {
    expect(stmt('deploy(host, size: "x")')).toEqual(exprStmt(call(name("deploy"), arg(name("host")), arg(str("x"), "size"))));
    expect(stmt("infra.configure(id: vm.id)")).toEqual(exprStmt(call(member(name("infra"), "configure"), arg(member(name("vm"), "id"), "id"))));
  });

  it("let j = start NAME(args)", () => {
    expect(stmt("let j = start deploy(host: h)")).toEqual({
      kind: "Let",
      name: id("j"),
      value: { kind: "Start", call: call(name("deploy"), arg(name("h"), "host")) },
    });
  });

  it("let r = await j", () => {
    expect(stmt("let r = await j")).toEqual({ kind: "Let", name: id("r"), value: { kind: "Await", job: name("j") } });
    expect(stmt("let r = await jobs[0]")).toEqual({
      kind: "Let",
      name: id("r"),
      value: { kind: "Await", job: { kind: "Index", object: name("jobs"), index: num(0) } },
    });
  });
});

describe("statement separation and layout", () => {
  it("newlines and `;` end statements; blank lines and comments are ignored", () => {
    expect(stmts("a()  # a comment\n\n# another\nb(); c()\n;;\nd()").length).toBe(4);
  });

  it("a line break after a binary operator, `,`, `(`, `[`, `{` of a map, `=` continues the statement", () => {
    expect(stmt("let x = 1 +\n  2 *\n  3")).toEqual({ kind: "Let", name: id("x"), value: bin("+", num(1), bin("*", num(2), num(3))) });
    expect(stmt("let ok = a and\n  b or\n  c")).toEqual({ kind: "Let", name: id("ok"), value: bin("or", bin("and", name("a"), name("b")), name("c")) });
    expect(stmt("f(\n  1,\n  size: 2,\n)")).toEqual(exprStmt(call(name("f"), arg(num(1)), arg(num(2), "size"))));
    expect(stmt("let x =\n  3")).toEqual({ kind: "Let", name: id("x"), value: num(3) });
  });

  it("a line starting with `.`, `?.` or a binary operator other than `-` continues the previous one", () => {
    expect(stmt("let x = a\n  .b\n  ?.c")).toEqual({ kind: "Let", name: id("x"), value: member(member(name("a"), "b"), "c", true) });
    expect(stmt("let x = a\n  ?? b")).toEqual({ kind: "Let", name: id("x"), value: bin("??", name("a"), name("b")) });
    expect(stmt("let ok = a\n  and b")).toEqual({ kind: "Let", name: id("ok"), value: bin("and", name("a"), name("b")) });
  });

  it("a line starting with `-` is a new statement", () => {
    expect(stmts("let x = a\n-b")).toEqual([{ kind: "Let", name: id("x"), value: name("a") }, exprStmt(un("-", name("b")))]);
  });

  it("a `{` on the line after a header opens the block (Allman style)", () => {
    expect(stmt("if a\n{\n  b()\n}\nelse\n{\n}")).toEqual({
      kind: "If",
      condition: name("a"),
      then: block(exprStmt(call(name("b")))),
      otherwise: block(),
    });
    expect(runbookOf("", "runbook t() -> string\n").name.name).toBe("t");
  });

  it("a record result type before the body, and a map literal at the start of a value", () => {
    expect(strip(runbookOf("", "runbook t() -> {a: string}").returnType)).toEqual({ kind: "RecordType", fields: [{ name: id("a"), type: named("string") }] });
    expect(stmt("return {\n  a: 1\n}")).toEqual({ kind: "Return", value: { kind: "Map", entries: [{ key: "a", value: num(1) }] } });
    expect(stmt("if x == {} {\n}")).toEqual({ kind: "If", condition: bin("==", name("x"), { kind: "Map", entries: [] }), then: block() });
  });

  it("blocks on one line and statements right before `}`", () => {
    expect(stmt("if a { b() }")).toEqual({ kind: "If", condition: name("a"), then: block(exprStmt(call(name("b")))) });
    expect(stmt("if a { b(); c() }")).toEqual({ kind: "If", condition: name("a"), then: block(exprStmt(call(name("b"))), exprStmt(call(name("c")))) });
  });

  it("CRLF line endings work like LF, and positions count CRLF as one line break", () => {
    const lf = parse("t.runbook", "runbook t() {\n  let x = 1\n  log x\n}\n");
    const crlf = parse("t.runbook", "runbook t() {\r\n  let x = 1\r\n  log x\r\n}\r\n");
    expect(crlf.diagnostics).toEqual([]);
    expect(strip(crlf.ast.runbook)).toEqual(strip(lf.ast.runbook));
    const log = crlf.ast.runbook!.body.statements[1];
    expect([log.span.start.line, log.span.start.column]).toEqual([3, 3]);
  });

  it("keywords may name members, map keys and named arguments; `as` and `time` are ordinary names", () => {
    expect(expr("r.error")).toEqual(member(name("r"), "error"));
    expect(expr("job?.output")).toEqual(member(name("job"), "output", true));
    expect(expr('exec(["ls"], timeout: 10s)')).toEqual(
      call(name("exec"), arg({ kind: "List", elements: [str("ls")] }), arg({ kind: "Duration", milliseconds: 10_000 }, "timeout")),
    );
    expect(stmt("let as = time")).toEqual({ kind: "Let", name: id("as"), value: name("time") });
  });
});

describe("expressions and operators (LANGUAGE.md: Expressions)", () => {
  it("precedence from loosest to tightest: ?? or and not comparisons .. + - * / % unary- postfix", () => {
    expect(expr("a ?? b or c")).toEqual(bin("??", name("a"), bin("or", name("b"), name("c"))));
    expect(expr("a or b and c")).toEqual(bin("or", name("a"), bin("and", name("b"), name("c"))));
    expect(expr("a and not b")).toEqual(bin("and", name("a"), un("not", name("b"))));
    expect(expr("not a == b")).toEqual(un("not", bin("==", name("a"), name("b"))));
    expect(expr("not a and b")).toEqual(bin("and", un("not", name("a")), name("b")));
    expect(expr("a == 1..3")).toEqual(bin("==", name("a"), bin("..", num(1), num(3))));
    expect(expr("1..n + 1")).toEqual(bin("..", num(1), bin("+", name("n"), num(1))));
    expect(expr("a + b * c")).toEqual(bin("+", name("a"), bin("*", name("b"), name("c"))));
    expect(expr("a * b % c / d")).toEqual(bin("/", bin("%", bin("*", name("a"), name("b")), name("c")), name("d")));
    expect(expr("-a * b")).toEqual(bin("*", un("-", name("a")), name("b")));
    expect(expr("-a.b[0]")).toEqual(un("-", { kind: "Index", object: member(name("a"), "b"), index: num(0) }));
    expect(expr("a ?? b ?? c")).toEqual(bin("??", bin("??", name("a"), name("b")), name("c")));
    expect(expr("x < 1 or y >= 2 and z != 3")).toEqual(
      bin("or", bin("<", name("x"), num(1)), bin("and", bin(">=", name("y"), num(2)), bin("!=", name("z"), num(3)))),
    );
  });

  it("binary operators are left-associative", () => {
    expect(expr("a - b - c")).toEqual(bin("-", bin("-", name("a"), name("b")), name("c")));
    expect(expr("a / b / c")).toEqual(bin("/", bin("/", name("a"), name("b")), name("c")));
    expect(expr("a or b or c")).toEqual(bin("or", bin("or", name("a"), name("b")), name("c")));
  });

  it("parentheses override precedence", () => {
    expect(expr("(a + b) * c")).toEqual(bin("*", bin("+", name("a"), name("b")), name("c")));
    expect(expr("(a < b) == c")).toEqual(bin("==", bin("<", name("a"), name("b")), name("c")));
    expect(expr("not (a or b)")).toEqual(un("not", bin("or", name("a"), name("b"))));
  });

  it("every comparison operator", () => {
    for (const op of ["==", "!=", "<", "<=", ">", ">="]) expect(expr(`a ${op} b`)).toEqual(bin(op, name("a"), name("b")));
  });

  it("postfix: .f, [i], ?.f and calls chain left to right", () => {
    const callC = call(member(member(name("a"), "b"), "c", true), arg(name("e")));
    expect(expr("a.b?.c(e)[d].f")).toEqual(member({ kind: "Index", object: callC, index: name("d") }, "f"));
  });

  it("a positional argument before named ones", () => {
    expect(expr('f(1, size: "x", n: 2)')).toEqual(call(name("f"), arg(num(1)), arg(str("x"), "size"), arg(num(2), "n")));
  });

  it("built-in functions and activities are calls like any other", () => {
    expect(expr("len(xs)")).toEqual(call(name("len"), arg(name("xs"))));
    expect(expr("min(1, 2, 3)")).toEqual(call(name("min"), arg(num(1)), arg(num(2)), arg(num(3))));
    expect(expr('http("GET", url, headers: {accept: "json"})')).toEqual(
      call(name("http"), arg(str("GET")), arg(name("url")), arg({ kind: "Map", entries: [{ key: "accept", value: str("json") }] }, "headers")),
    );
    expect(expr('sql("select 1 where a = $1", [a])')).toEqual(
      call(name("sql"), arg(str("select 1 where a = $1")), arg({ kind: "List", elements: [name("a")] })),
    );
    expect(expr("uuid()")).toEqual(call(name("uuid")));
    expect(expr('asset("db-password")')).toEqual(call(name("asset"), arg(str("db-password"))));
    expect(expr('exec(["ls", "-l"], 10s, env: {LANG: "C"})')).toEqual(
      call(
        name("exec"),
        arg({ kind: "List", elements: [str("ls"), str("-l")] }),
        arg({ kind: "Duration", milliseconds: 10_000 }),
        arg({ kind: "Map", entries: [{ key: "LANG", value: str("C") }] }, "env"),
      ),
    );
  });
});

describe("spans", () => {
  const text = 'runbook t(a: number) -> string {\n  let x = foo(1, b: "s") + 2\n  if x > 1 { log "hi ${x}" }\n}\n';
  const ast = parseClean(text);
  const at = (s: { span: { start: { line: number; column: number; offset: number }; end: { line: number; column: number; offset: number } } }) =>
    `${s.span.start.line}:${s.span.start.column}-${s.span.end.line}:${s.span.end.column} ${text.slice(s.span.start.offset, s.span.end.offset)}`;

  it("cover exactly their source text, 1-based lines and columns, end exclusive", () => {
    const r = ast.runbook!;
    expect(at(ast)).toBe(`1:1-5:1 ${text}`);
    expect(at(r.params[0])).toBe("1:11-1:20 a: number");
    expect(at(r.returnType!)).toBe("1:25-1:31 string");
    const [let_, if_] = r.body.statements as [any, any];
    expect(at(let_)).toBe('2:3-2:29 let x = foo(1, b: "s") + 2');
    expect(at(let_.name)).toBe("2:7-2:8 x");
    expect(at(let_.value)).toBe('2:11-2:29 foo(1, b: "s") + 2');
    expect(at(let_.value.left)).toBe('2:11-2:25 foo(1, b: "s")');
    expect(at(let_.value.left.args[1])).toBe('2:18-2:24 b: "s"');
    expect(at(if_)).toBe('3:3-3:29 if x > 1 { log "hi ${x}" }');
    expect(at(if_.then)).toBe('3:12-3:29 { log "hi ${x}" }');
    expect(at(if_.then.statements[0].value)).toBe('3:18-3:27 "hi ${x}"');
    expect(at(if_.then.statements[0].value.parts[1])).toBe("3:24-3:25 x");
  });

  it("map entries carry their key's span; else-if nodes span from their `if` to the chain's end", () => {
    const src = 'runbook t() {\n  let m = { "k": 1 }\n  if a {\n  } else if b {\n  }\n}\n';
    const r = parseClean(src).runbook!;
    const m = (r.body.statements[0] as any).value;
    expect(src.slice(m.entries[0].keySpan.start.offset, m.entries[0].keySpan.end.offset)).toBe('"k"');
    const elseIf = (r.body.statements[1] as any).otherwise;
    expect(src.slice(elseIf.span.start.offset, elseIf.span.end.offset)).toBe("if b {\n  }");
  });

  it("a folded negative number spans its minus", () => {
    const e = rawExpr("-1e3");
    expect(e.span.end.offset - e.span.start.offset).toBe(4);
  });
});
