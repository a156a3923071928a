// The suspension grid (grid.ts): every suspension point in every construct, compiled as one
// project, each case run straight and in both interrupted modes; the runs must agree, match the
// template's expected trace, and commit only plain-JSON states without dead locals.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import type { CheckedProject } from "../../compiler/checked.js";
import { formatDiagnostics } from "../../compiler/report.js";
import type { CompiledRunbook, Json } from "../../runtime/abi.js";
import { MODES, programOf, runAllModes, type CommitEvent } from "../../runtime/memory.js";
import { loadRunbook } from "../../runtime/load.js";
import { CONSTRUCTS, GRID_HELPERS, gridCases, POINTS } from "./grid.js";
import { checkCommittedState } from "./state-check.js";

const cases = gridCases();
const dir = mkdtempSync(path.join(tmpdir(), "runbook-grid-"));
let project: CheckedProject;
const compiled = new Map<string, CompiledRunbook>();
const signals = [10, 20, 30, 40].map((value) => ({ name: "sig", value }));

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  for (const f of [...GRID_HELPERS, ...cases.flatMap((c) => c.files)]) writeFileSync(path.join(dir, f.file), f.text);
  const result = compile({ paths: [dir] });
  project = result.program;
  const errors = project.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`the grid does not compile:\n${formatDiagnostics(errors, project.sources, "text")}`);
  for (const m of result.modules) compiled.set(m.name, await loadRunbook(m.js, m.name));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (v: Json) => (typeof v === "string" ? v : JSON.stringify(v));

describe("suspension grid", () => {
  it(`covers ${POINTS.length} suspension points in ${CONSTRUCTS.length} constructs`, () => {
    expect(cases.length).toBe(POINTS.length * CONSTRUCTS.length);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const problems: string[] = [];
      const onCommit = (e: CommitEvent) => {
        for (const p of checkCommittedState(e.state, e.outcome, (n) => compiled.get(n), (n) => project.runbooks.get(n)?.decl)) problems.push(`${e.job}: ${p}`);
      };
      const { runs, divergence } = await runAllModes(programOf(compiled.values()), c.name, {}, { signals, onCommit });
      const straight = runs.straight;
      const ending = straight.ending;
      expect(ending.kind === "failed" ? `failed: ${ending.error.message} at ${ending.error.runbook}:${ending.error.line}` : "completed").toBe("completed");
      expect(divergence).toBeNull();
      expect([...new Set(problems)]).toEqual([]);
      for (const mode of MODES) {
        const run = runs[mode];
        expect(run.streams.filter((r) => r.stream === "output").map((r) => text(r.value)), mode).toEqual(c.outputs);
        expect(run.ending, mode).toEqual({ kind: "completed", result: c.result });
        expect(run.suspensions, mode).toBe(c.suspensions);
      }
    });
  }
});
