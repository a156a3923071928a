// The corpus: every fixture in test/corpus/runbooks is compiled (the folder is one project),
// run straight, interrupted at every suspension point, and re-run from the previous checkpoint
// just before each checkpoint. For each fixture the three runs must agree (streams, result,
// error) and match the expectations written in the fixture; every committed state must be
// plain JSON with no dead locals (state-check.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parseParams, parseSignal } from "../../cli/test.js";
import { compile } from "../../compiler/index.js";
import type { CheckedProject } from "../../compiler/checked.js";
import { formatDiagnostics } from "../../compiler/report.js";
import type { CompiledRunbook, Json } from "../../runtime/abi.js";
import { MODES, programOf, runAllModes, type CommitEvent } from "../../runtime/memory.js";
import { loadRunbook } from "../../runtime/load.js";
import { readFixtures } from "./fixtures.js";
import { checkCommittedState } from "./state-check.js";

const dir = fileURLToPath(new URL("./runbooks", import.meta.url));
const fixtures = readFixtures(dir);

let project: CheckedProject;
const compiled = new Map<string, CompiledRunbook>();

beforeAll(async () => {
  const result = compile({ paths: [dir] });
  project = result.program;
  const errors = project.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`the corpus does not compile:\n${formatDiagnostics(errors, project.sources, "text")}`);
  for (const m of result.modules) compiled.set(m.name, await loadRunbook(m.js, m.name));
});

function text(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

describe("corpus", () => {
  it("has at least 40 fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });

  for (const f of fixtures) {
    it(f.name, async () => {
      const checked = project.runbooks.get(f.name);
      expect(checked, `${f.name}.runbook declares runbook ${f.name}`).toBeDefined();
      const params = parseParams(checked!, f.params);
      const signals = f.signals.map(parseSignal);
      const problems: string[] = [];
      let commits = 0;
      const onCommit = (e: CommitEvent) => {
        commits++;
        for (const p of checkCommittedState(e.state, e.outcome, (n) => compiled.get(n), (n) => project.runbooks.get(n)?.decl)) problems.push(`${e.job}: ${p}`);
      };
      const { runs, divergence } = await runAllModes(programOf(compiled.values()), f.name, params, { signals, onCommit });
      expect(commits).toBeGreaterThan(0);
      expect(divergence).toBeNull();
      expect([...new Set(problems)]).toEqual([]);

      for (const mode of MODES) {
        const run = runs[mode];
        const where = `${mode} run`;
        expect(run.streams.filter((r) => r.stream === "output").map((r) => text(r.value)), where).toEqual(f.outputs);
        if (f.error !== undefined) {
          expect(run.ending.kind, where).toBe("failed");
          if (run.ending.kind !== "failed") continue;
          expect(run.ending.error.message, where).toBe(f.error);
          if (f.errorAt) expect(`${run.ending.error.runbook}:${run.ending.error.line}`, where).toBe(f.errorAt);
          expect(path.basename(run.ending.error.file), where).toBe(`${run.ending.error.runbook}.runbook`);
        } else {
          const ending = run.ending;
          expect(ending.kind === "failed" ? `failed: ${ending.error.message} at ${ending.error.runbook}:${ending.error.line}` : "completed", where).toBe("completed");
          if (ending.kind !== "completed") continue;
          if (f.result !== undefined) expect(JSON.stringify(ending.result), where).toBe(JSON.stringify(JSON.parse(f.result)));
        }
        if (f.suspensions !== undefined) expect(run.suspensions, where).toBe(f.suspensions);
      }
      // Each segment ran twice in the before-checkpoint mode.
      expect(runs["before-checkpoint"].runs).toBe(2 * runs.straight.runs);
    });
  }
});
