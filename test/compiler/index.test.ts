// compiler/index.ts `compile(project)`: one entry point from files or editor buffers to modules,
// with each module's metadata as data that agrees with the `runbook` object the module exports.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import { loadRunbook } from "../../runtime/load.js";

const PARENT = `runbook parent(hosts: list<string>, pause: duration = 5s) -> number {
  let n = helper(x: 1)
  checkpoint "first"
  let job = start child(count: len(hosts))
  let r = await job
  sleep pause
  let m = inline(y: n)
  return n + m + r.total
}
`;
const HELPER = `runbook helper(x: number) -> number {
  return x + 1
}
`;
const CHILD = `runbook child(count: number) -> {total: number} {
  checkpoint
  return {total: count}
}
`;
const INLINE = `runbook inline(y: number) -> number {
  let got = wait "go" timeout 1m
  return got?.n ?? y
}
`;
const files = [
  { file: "parent.runbook", text: PARENT },
  { file: "helper.runbook", text: HELPER },
  { file: "child.runbook", text: CHILD },
  { file: "inline.runbook", text: INLINE },
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-compile-api-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("compile(project)", () => {
  const result = compile({ files });

  it("compiles every runbook in name order, with no diagnostics", () => {
    expect(result.inputError).toBeUndefined();
    expect(result.diagnostics).toEqual([]);
    expect(result.modules.map((m) => m.name)).toEqual(["child", "helper", "inline", "parent"]);
  });

  it("gives each module its params, calls, call sites and suspension points as data", () => {
    const parent = result.modules.find((m) => m.name === "parent")!;
    expect(parent.params).toEqual([
      { name: "hosts", type: "list<string>", typeData: { kind: "list", element: { kind: "string" } }, hasDefault: false },
      { name: "pause", type: "duration", typeData: { kind: "duration" }, hasDefault: true },
    ]);
    expect(parent.returns).toBe("number");
    expect(parent.canSuspend).toBe(true);
    expect(parent.calls).toEqual(["child", "helper", "inline"]);
    expect(parent.callSites).toEqual([
      { runbook: "helper", how: "call", canSuspend: false, line: 2, column: 11 },
      { runbook: "child", how: "start", canSuspend: true, line: 4, column: 19 },
      { runbook: "inline", how: "call", canSuspend: true, line: 7, column: 11 },
    ]);
    expect(parent.suspensions.map(({ kind, line, column }) => [kind, line, column])).toEqual([
      ["checkpoint", 3, 3],
      ["await", 5, 3],
      ["sleep", 6, 3],
      ["call", 7, 3],
    ]);
    // Every suspension resumes at a case the source map places, and whose live slots are known.
    for (const s of parent.suspensions) {
      expect(parent.positions[s.resumePc]).toBeDefined();
      expect(parent.live[s.resumePc]).toBeDefined();
    }
    const inline = result.modules.find((m) => m.name === "inline")!;
    expect(inline.suspensions.map((s) => s.kind)).toEqual(["wait"]);
    const helper = result.modules.find((m) => m.name === "helper")!;
    expect(helper).toMatchObject({ canSuspend: false, calls: [], callSites: [], suspensions: [], uses: {} });
  });

  it("has the metadata the emitted module exports, field for field", async () => {
    for (const m of result.modules) {
      const loaded = await loadRunbook(m.js, m.name);
      const { step: _step, ...exported } = loaded;
      const { ts: _ts, js: _js, callSites: _sites, suspensions: _susp, ...meta } = m;
      expect(exported).toEqual(JSON.parse(JSON.stringify(meta)));
    }
  });

  it("checks only, without emitting, when asked", () => {
    const checked = compile({ files }, { emit: false });
    expect(checked.modules).toEqual([]);
    expect([...checked.program.runbooks.keys()].sort()).toEqual(["child", "helper", "inline", "parent"]);
  });

  it("reports errors as diagnostics and compiles nothing", () => {
    const bad = compile({ files: [...files.slice(1), { file: "parent.runbook", text: PARENT.replace("x: 1", 'x: "one"') }] });
    expect(bad.modules).toEqual([]);
    expect(bad.diagnostics.map((d) => [d.span.file, d.span.start.line, d.code])).toEqual([["parent.runbook", 2, "RB2018"]]);
  });

  it("takes an unsaved buffer in place of the file on disk, and adds files not on disk", () => {
    for (const f of files.slice(0, 3)) fs.writeFileSync(path.join(tmp, f.file), f.text);
    const onDisk = compile({ paths: [tmp] }, { emit: false });
    expect(onDisk.diagnostics.map((d) => d.code)).toEqual(["RB2013"]); // `inline` is not on disk
    const buffers = [
      { file: path.join(tmp, "inline.runbook"), text: INLINE },
      { file: path.join(tmp, "helper.runbook"), text: HELPER.replace("x + 1", "x + true") },
    ];
    const edited = compile({ paths: [tmp], files: buffers }, { emit: false });
    expect(edited.diagnostics.map((d) => [path.basename(d.span.file), d.span.start.line])).toEqual([["helper.runbook", 2]]);
    expect(edited.program.sources.get(path.join(tmp, "helper.runbook"))).toContain("x + true");
  });

  it("takes a path that names a buffer not saved yet", () => {
    const fresh = path.join(tmp, "fresh.runbook");
    const r = compile({ paths: [fresh, path.join(tmp, "child.runbook")], files: [{ file: fresh, text: "runbook fresh() {\n  output 1\n}\n" }] }, { emit: false });
    expect(r.inputError).toBeUndefined();
    expect([...r.program.runbooks.keys()].sort()).toEqual(["child", "fresh"]);
  });

  it("returns bad usage as a value", () => {
    expect(compile({ paths: [path.join(tmp, "nope")] }).inputError).toBe(`no such file or folder: ${path.join(tmp, "nope")}`);
  });
});
