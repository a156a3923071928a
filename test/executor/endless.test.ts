// Steps without suspension points: emitted loops yield at `ctx.tick()`, so an endless loop
// fails `runbook test` at the loop's position after the step budget instead of hanging it,
// no runbook `catch` can swallow that, and a job whose driver signal fires leaves its step.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compileProject } from "../../compiler/compile.js";
import { checkSources } from "../../compiler/program.js";
import type { CompiledRunbook, StreamRecord } from "../../runtime/abi.js";
import { initialState, resume } from "../../runtime/driver.js";
import { programOf, runInMemory } from "../../runtime/memory.js";
import { loadRunbook } from "../../runtime/load.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = mkdtempSync(path.join(tmpdir(), "runbook-endless-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function compile(file: string, text: string): Promise<CompiledRunbook[]> {
  const project = checkSources([{ file, text }]);
  expect(project.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const out: CompiledRunbook[] = [];
  for (const m of compileProject(project)) out.push(await loadRunbook(m.js, m.name));
  return out;
}

const BUDGET = 200;

describe("runbook test of an endless loop", () => {
  it("fails with the clear error at the loop's position, not a hang", () => {
    const dir = path.join(tmp, "cli");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "spin.runbook");
    writeFileSync(file, `runbook spin() {\n  output "before"\n  while true {}\n}\n`);
    const started = Date.now();
    const r = spawnSync(process.execPath, [path.join(root, "bin/runbook.js"), "test", file], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, RUNBOOK_STEP_BUDGET_MS: String(BUDGET) },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:3:3: error: no suspension point reached in 0.2 s; an endless loop?`);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("rejects a bad RUNBOOK_STEP_BUDGET_MS with a one-line usage error", () => {
    const file = path.join(tmp, "cli", "spin.runbook");
    const r = spawnSync(process.execPath, [path.join(root, "bin/runbook.js"), "test", file], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, RUNBOOK_STEP_BUDGET_MS: "soon" },
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("RUNBOOK_STEP_BUDGET_MS");
  });
});

describe("the step budget", () => {
  const cases: { name: string; text: string; line: number; column: number }[] = [
    { name: "a native while inside try/catch (the catch never sees it)", text: `runbook spin() {\n  let i = 0\n  try {\n    while true { i += 1 }\n  } catch err {\n    output "caught"\n  }\n}\n`, line: 4, column: 5 },
    { name: "nested fors over large ranges", text: `runbook spin() {\n  let n = 0\n  for i in 1..1000000 {\n    for j in 1..1000000 { n += 1 }\n  }\n}\n`, line: 4, column: 5 },
    { name: "a for loop in a native retry", text: `runbook spin() {\n  retry (attempts: 2) {\n    for i in 1..1000000 {\n      for j in 1..1000000 { }\n    }\n  }\n}\n`, line: 4, column: 7 },
    { name: "a split loop whose checkpoint is never reached", text: `runbook spin(go: bool = false) {\n  let i = 0\n  while true {\n    i += 1\n    if go { checkpoint }\n  }\n}\n`, line: 3, column: 3 },
  ];
  for (const c of cases) {
    it(`ends ${c.name}`, async () => {
      const program = programOf(await compile("spin.runbook", c.text));
      const run = await runInMemory(program, "spin", {}, { mode: "straight", stepBudgetMs: BUDGET });
      expect(run.ending).toEqual({
        kind: "failed",
        error: { message: "no suspension point reached in 0.2 s; an endless loop?", runbook: "spin", file: "spin.runbook", line: c.line, column: c.column, data: null },
      });
      expect(run.streams.filter((s) => s.stream === "output").map((s) => s.value)).not.toContain("caught");
    });
  }

  it("does not touch a long loop that finishes within it", async () => {
    const program = programOf(await compile("sum.runbook", `runbook sum() -> number {\n  let n = 0\n  for i in 1..100000 { n += i }\n  return n\n}\n`));
    const run = await runInMemory(program, "sum", {}, { mode: "straight", stepBudgetMs: 10_000 });
    expect(run.ending).toEqual({ kind: "completed", result: 5000050000 });
  });
});

describe("the driver's signal", () => {
  it("ends a step stuck in a loop with an interrupted outcome, and timers run while it loops", async () => {
    const program = programOf(await compile("spin.runbook", `runbook spin() {\n  let i = 0\n  try {\n    while true { i += 1 }\n  } catch err {\n    output "caught"\n  } finally {\n    output "finally"\n  }\n}\n`));
    const records: StreamRecord[] = [];
    const abort = new AbortController();
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
      abort.abort(new Error("the job was stopped by an operator"));
    }, 50);
    const r = await resume(initialState("spin", {}), program, {
      emit: (rec) => records.push(rec),
      activity: async () => null,
      start: async () => "x",
      signal: abort.signal,
    });
    expect(timerRan).toBe(true);
    expect(r.outcome).toEqual({ kind: "interrupted", reason: "the job was stopped by an operator" });
    expect(records.map((x) => x.value)).not.toContain("caught");
  });
});
