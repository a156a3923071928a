// Unit tests of the checker through checkSources: inference, scopes, call normalization,
// canSuspend, and that one mistake is reported once.
import { describe, expect, it } from "vitest";
import type { ActivityFunction, ActivityModule } from "../../compiler/activities.js";
import type { CheckedProject } from "../../compiler/checked.js";
import { checkSources } from "../../compiler/program.js";
import { T, typeToString } from "../../compiler/types.js";
import type * as ast from "../../grammar/ast.js";

const noModules = (_file: string, usePath: string, alias: string): ActivityModule => ({
  alias,
  path: usePath,
  functions: new Map(),
  error: `no modules in this test (${usePath})`,
});

function project(files: Record<string, string>, loader = noModules): CheckedProject {
  return checkSources(
    Object.entries(files).map(([name, text]) => ({ file: `${name}.runbook`, text })),
    loader,
  );
}

function codes(p: CheckedProject): string[] {
  return p.diagnostics.map((d) => d.code);
}

/** The type the checker gave the value of `let NAME = ...` in runbook `rb`. */
function letType(p: CheckedProject, rb: string, name: string): string {
  const checked = p.runbooks.get(rb)!;
  let found: ast.Expr | undefined;
  const visit = (stmts: ast.Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "Let" && s.name.name === name) found = s.value;
      for (const v of Object.values(s)) if (v && typeof v === "object" && (v as ast.Block).kind === "Block") visit((v as ast.Block).statements);
    }
  };
  visit(checked.decl.body.statements);
  if (!found) throw new Error(`no let ${name}`);
  return typeToString(checked.types.get(found)!);
}

describe("inference", () => {
  it("infers local types from their values", () => {
    const p = project({
      infer: `runbook infer(n: number, d: duration) {
  let a = 1
  let b = [1, 2]
  let c = []
  let d2 = { region: "eu", replicas: 3 }
  let e = [{ name: "a" }, { name: "b", port: 80 }]
  let f = d * 2
  let g = now() + d
  let h = now() - now()
  let i = 1..n
  let j = [1, null]
  let k = exec(["ls"])
  let l = keys(d2)
  let m = json_parse("{}")
  let o: number? = null
  let q = o ?? 5
  let r = "x\${a}"
  log {a: a, b: b, c: c, d2: d2, e: e, f: f, g: g, h: h, i: i, j: j, k: k, l: l, m: m, q: q, r: r}
}`,
    });
    expect(p.diagnostics).toEqual([]);
    const t = (name: string) => letType(p, "infer", name);
    expect(t("a")).toBe("number");
    expect(t("b")).toBe("list<number>");
    expect(t("c")).toBe("list<any>");
    expect(t("d2")).toBe("{region: string, replicas: number}");
    expect(t("e")).toBe("list<{name: string, port: number?}>");
    expect(t("f")).toBe("duration");
    expect(t("g")).toBe("time");
    expect(t("h")).toBe("duration");
    expect(t("i")).toBe("list<number>");
    expect(t("j")).toBe("list<number?>");
    expect(t("k")).toBe("{code: number, stdout: string, stderr: string}");
    expect(t("l")).toBe("list<string>");
    expect(t("m")).toBe("any");
    expect(t("q")).toBe("number");
    expect(t("r")).toBe("string");
  });

  it("gives literals the type their context expects", () => {
    const p = project({
      ctx: `runbook ctx() {
  let xs: list<string> = []
  let m: map<number> = {}
  let cfg: map<any> = { a: 1, b: "x" }
  xs += ["a"]
  m.a = 1
  log {xs: xs, m: m, cfg: cfg}
}`,
    });
    expect(p.diagnostics).toEqual([]);
    expect(letType(p, "ctx", "xs")).toBe("list<string>");
    expect(letType(p, "ctx", "m")).toBe("map<number>");
  });

  it("never cascades on the error type", () => {
    const p = project({
      once: `runbook once() {
  let x = nope
  let y = x + 1
  log y.z[3]
  if y { log len(y) }
  for v in x { log v.w }
}`,
    });
    expect(codes(p)).toEqual(["RB2001"]);
  });
});

describe("built-in functions", () => {
  it("types their results from their arguments", () => {
    const p = project({
      b: `runbook b(m: map<number>, r: {a: number, b: number}, xs: list<duration>) {
  let a = values(m)
  let b2 = values(r)
  let c = min(xs)
  let d = max(1, 2, 3)
  let e = max(1s, 2m)
  let f = keys(r)
  let g = split("a,b", ",")
  let h = int("3")
  let i = contains(m, "k")
  let j = time("2026-01-01T00:00:00Z")
  log {a: a, b2: b2, c: c, d: d, e: e, f: f, g: g, h: h, i: i, j: j}
}`,
    });
    expect(p.diagnostics).toEqual([]);
    const t = (name: string) => letType(p, "b", name);
    expect([t("a"), t("b2"), t("c"), t("d"), t("e"), t("f"), t("g"), t("h"), t("i"), t("j")]).toEqual([
      "list<number>",
      "list<number>",
      "duration",
      "number",
      "duration",
      "list<string>",
      "list<string>",
      "number",
      "bool",
      "time",
    ]);
  });
});

describe("scopes", () => {
  it("allows shadowing in an inner block and refuses redeclaring in the same one", () => {
    const p = project({
      sc: `runbook sc(a: number) {
  let b = a
  if true {
    let b = "inner"
    let a = 2
    log "\${a}\${b}"
  }
  let b = 3
  log b
}`,
    });
    expect(codes(p)).toEqual(["RB2002"]);
    expect(p.diagnostics[0]!.span.start.line).toBe(8);
    expect(p.diagnostics[0]!.related?.[0]?.span.start.line).toBe(2);
  });

  it("treats parameters, loop names and catch names as part of their block", () => {
    const p = project({
      sc: `runbook sc(a: number, xs: list<number>) {
  let a = 1
  for x in xs { let x = 2; log x }
  try { fail "x" } catch err { let err = 1; log err }
}`,
    });
    expect(codes(p)).toEqual(["RB2002", "RB2002", "RB2002"]);
  });

  it("lets `_` discard any number of times and never binds it", () => {
    const p = project({
      sc: `runbook sc(m: map<number>) {
  for _, _ in m { log 1 }
  let _ = 1
  let _ = "two"
  log _
}`,
    });
    expect(codes(p)).toEqual(["RB2001"]);
  });

  it("ends a local's scope with its block", () => {
    const p = project({
      sc: `runbook sc() {
  if true { let inner = 1; log inner }
  log inner
}`,
    });
    expect(codes(p)).toEqual(["RB2001"]);
  });
});

describe("null narrowing", () => {
  it("sees a `T?` local as `T` where `!= null` is known", () => {
    const p = project({
      nn: `runbook nn(limit: number? = null, name: string? = null) -> number {
  if limit != null and limit > 3 {
    log limit + 1
  }
  if limit == null or limit < 0 {
    log "no limit"
  } else {
    log limit * 2
  }
  if not (name == null) {
    log upper(name)
  }
  while limit != null {
    log limit - 1
    limit = null
  }
  if name == null {
    return 0
  }
  log len(name)
  return limit + 1
}`,
    });
    expect(p.diagnostics.map((d) => `${d.span.start.line}:${d.code}`)).toEqual(["21:RB2025"]);
  });

  it("ends the narrowing when a value that may be null is assigned", () => {
    const p = project({
      nn: `runbook nn(x: number? = null, y: number?) {
  if x != null {
    x = 5
    log x + 1
    x = y
    log x + 1
  }
}`,
    });
    expect(p.diagnostics.map((d) => `${d.span.start.line}:${d.code}`)).toEqual(["6:RB2025"]);
  });
});

describe("calls", () => {
  const callee = `runbook deploy(host: string, version: string = "latest", replicas: number = 1) -> string {
  return "\${host}@\${version}x\${replicas}"
}`;

  it("normalizes arguments to parameter order", () => {
    const p = project({
      deploy: callee,
      caller: `runbook caller() {
  let a = deploy("h1", replicas: 3)
  let b = deploy(version: "2", host: "h2")
  log [a, b, upper(a)]
}`,
    });
    expect(p.diagnostics).toEqual([]);
    const calls = [...p.runbooks.get("caller")!.calls.entries()];
    const runbookCalls = calls.filter(([, r]) => r.kind === "runbook").map(([, r]) => r);
    expect(runbookCalls).toHaveLength(2);
    const describeArgs = (r: (typeof runbookCalls)[number]) =>
      r.kind === "runbook" ? r.args.map((a) => (a === undefined ? "-" : a.kind === "String" ? a.value : a.kind === "Number" ? String(a.value) : a.kind)) : [];
    expect(runbookCalls[0]).toMatchObject({ kind: "runbook", callee: "deploy", paramNames: ["host", "version", "replicas"] });
    expect(describeArgs(runbookCalls[0]!)).toEqual(["h1", "-", "3"]);
    expect(describeArgs(runbookCalls[1]!)).toEqual(["h2", "2", "-"]);
    expect(calls.some(([, r]) => r.kind === "builtin" && r.fn === "upper")).toBe(true);
    expect(letType(p, "caller", "a")).toBe("string");
  });

  it("resolves activity calls of a use module and normalizes their arguments", () => {
    const span = { file: "infra.ts", start: { line: 3, column: 1, offset: 0 }, end: { line: 3, column: 10, offset: 9 } };
    const fn = (name: string, params: ActivityFunction["params"], returns = T.string, extra: Partial<ActivityFunction> = {}): ActivityFunction => ({
      module: "infra",
      name,
      params,
      returns,
      declaration: span,
      ...extra,
    });
    const loader = (_f: string, usePath: string, alias: string): ActivityModule => ({
      alias,
      path: usePath,
      functions: new Map([
        ["createVm", fn("createVm", [{ name: "name", type: T.string, optional: false }, { name: "size", type: T.optional(T.string), optional: true }], T.record({ id: T.string }))],
        ["stamp", fn("stamp", [], T.error, { unserializable: "infra.stamp returns Date: Date is not serializable; return an ISO string" })],
      ]),
    });
    const p = project(
      {
        act: `use "./infra.ts" as infra
runbook act() {
  let vm = infra.createVm(size: "xl", name: "web")
  let t = infra.stamp()
  log {id: vm.id, t: t}
}`,
      },
      loader,
    );
    expect(codes(p)).toEqual(["RB3003"]);
    expect(p.diagnostics[0]!.message).toBe("infra.stamp returns Date: Date is not serializable; return an ISO string");
    expect(p.diagnostics[0]!.related?.[0]?.span.file).toBe("infra.ts");
    const resolution = [...p.runbooks.get("act")!.calls.values()].find((r) => r.kind === "activity" && r.fn === "createVm");
    expect(resolution).toMatchObject({ kind: "activity", module: "infra", paramNames: ["name", "size"] });
    expect(letType(p, "act", "vm")).toBe("{id: string}");
    expect(p.runbooks.get("act")!.uses).toEqual({ infra: "./infra.ts" });
  });
});

describe("canSuspend", () => {
  it("is computed to a fixpoint over inline calls, not over start", () => {
    const p = project({
      top: `runbook top() { middle() }`,
      middle: `runbook middle() { bottom() }`,
      bottom: `runbook bottom() { checkpoint "b" }`,
      pure: `runbook pure() -> number { return len(exec(["ls"]).stdout) }`,
      starter: `runbook starter() { let j = start bottom(); log j }`,
      waiter: `runbook waiter() { let v = wait "go"; log v }`,
      retrier: `runbook retrier() { retry (delay: 1s) { exec(["true"]) } }`,
      quick: `runbook quick() { retry (attempts: 5, delay: 0s) { exec(["true"]) } }`,
    });
    expect(p.diagnostics).toEqual([]);
    const can = Object.fromEntries([...p.runbooks].map(([n, r]) => [n, r.canSuspend]));
    expect(can).toEqual({ top: true, middle: true, bottom: true, pure: false, starter: false, waiter: true, retrier: true, quick: false });
    const call = [...p.runbooks.get("top")!.calls.values()][0]!;
    expect(call).toMatchObject({ kind: "runbook", callee: "middle", canSuspend: true });
    const started = [...p.runbooks.get("starter")!.calls.values()][0]!;
    expect(started).toMatchObject({ kind: "runbook", callee: "bottom", canSuspend: true });
  });

  it("allows a non-suspending runbook call anywhere and refuses a suspending one inside an expression", () => {
    const p = project({
      a: `runbook a() -> number { checkpoint; return 1 }`,
      b: `runbook b() -> number { return 2 }`,
      user: `runbook user() -> number {
  let x = b() + b()
  let y = a()
  x += a()
  let z = a() + 1
  log {x: x, y: y, z: z}
  return a()
}`,
    });
    expect(codes(p)).toEqual(["RB2022"]);
    expect(p.diagnostics[0]!.span.start.line).toBe(5);
  });

  it("reports a cycle once, with its path", () => {
    const p = project({
      a: `runbook a() { b() }`,
      b: `runbook b() { c() }`,
      c: `runbook c() { a() }`,
      d: `runbook d() { d() }`,
    });
    expect(p.diagnostics.map((d) => d.message)).toEqual(["inline calls form a cycle: a -> b -> c -> a", "inline calls form a cycle: d -> d"]);
  });
});

describe("project rules", () => {
  it("checks every file even when one has syntax errors", () => {
    const p = project({
      broken: `runbook broken( {`,
      fine: `runbook fine() { let x: number = "no"; log x }`,
    });
    expect(codes(p).some((c) => c.startsWith("RB1"))).toBe(true);
    expect(codes(p)).toContain("RB2004");
  });

  it("does not warn about unused locals in a file with syntax errors", () => {
    const p = project({ broken: `runbook broken() {\n let x = 1\n let y = (\n}` });
    expect(codes(p).filter((c) => c === "RB2024")).toEqual([]);
  });
});
