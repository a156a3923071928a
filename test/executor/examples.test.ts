// The example runbooks (runbooks/) under `runbook test`'s executor, with the demo activities
// acting on files in a temporary folder: each completes, and the interrupted runs agree with the
// straight one. (test_failover, WriteLog and sync_inventory call `sql` and `asset`: with fakes
// and a throw-away database in test-fakes.test.ts.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activityRunner, parseParams, parseSignal } from "../../cli/test.js";
import { compile } from "../../compiler/index.js";
import type { CheckedProject } from "../../compiler/checked.js";
import type { CompiledRunbook, Json } from "../../runtime/abi.js";
import { programOf, runAllModes } from "../../runtime/memory.js";
import { loadRunbook } from "../../runtime/load.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const demo = mkdtempSync(path.join(tmpdir(), "runbook-demo-"));
let project: CheckedProject;
const compiled: CompiledRunbook[] = [];

beforeAll(async () => {
  process.env.RUNBOOK_DEMO_DIR = demo;
  process.env.RUNBOOK_DEMO_BOOT_MS = "10";
  const result = compile({ paths: [path.join(root, "runbooks")] });
  project = result.program;
  expect(project.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  for (const m of result.modules) compiled.push(await loadRunbook(m.js, m.name));
});
afterAll(() => rmSync(demo, { recursive: true, force: true }));

const cases: { name: string; params: string[]; signals: string[]; outputs: (out: string[]) => void }[] = [
  { name: "build_vm", params: ["name=web1"], signals: [], outputs: (o) => expect(o).toEqual(["web1 is ready as vm-web1"]) },
  {
    name: "rolling_restart",
    params: ['hosts=["a","b","c"]', "batch_size=2"],
    signals: ['approve={"ok":true}'],
    outputs: (o) => expect(o).toEqual(["batch done: 2 of 3 hosts restarted", "batch done: 3 of 3 hosts restarted"]),
  },
  { name: "nightly_backup", params: [], signals: [], outputs: (o) => expect(o).toHaveLength(2) },
  { name: "disk_report", params: [], signals: [], outputs: (o) => expect(o).toHaveLength(2) },
];

const text = (v: Json) => (typeof v === "string" ? v : JSON.stringify(v));

describe("examples under runbook test", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const rb = project.runbooks.get(c.name)!;
      const { runs, divergence } = await runAllModes(programOf(compiled), c.name, parseParams(rb, c.params), {
        signals: c.signals.map(parseSignal),
        activity: activityRunner(compiled),
      });
      const ending = runs.straight.ending;
      expect(ending.kind === "failed" ? ending.error.message : "completed").toBe("completed");
      expect(divergence).toBeNull();
      c.outputs(runs.straight.streams.filter((r) => r.stream === "output").map((r) => text(r.value)));
      expect(runs.straight.suspensions).toBeGreaterThan(0);
    });
  }
});
