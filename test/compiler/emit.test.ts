// The emitted modules: golden baselines (UPDATE_GOLDEN=1 rewrites them; review the diff by
// hand), byte-identical output for the same input, and `tsc --strict --noEmit` over the modules
// of every runbook in runbooks/, the fixtures and the lowering grid.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject, type CompiledModule } from "../../compiler/compile.js";
import { compile } from "../../compiler/index.js";
import { abiText } from "../../cli/compile.js";
import { grid } from "./grid-cases.js";
import { checked } from "./support.js";

const GOLDEN = "test/compiler/golden";

function compileFolder(dir: string): CompiledModule[] {
  const { program: project, modules } = compile({ paths: [dir] });
  const errors = project.diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => `${d.span.file}:${d.span.start.line}: ${d.message}`)).toEqual([]);
  return modules;
}

describe("golden emitted modules", () => {
  const modules = compileFolder(GOLDEN);
  for (const m of modules) {
    it(`${m.name}.ts matches ${GOLDEN}/${m.name}.ts.golden`, () => {
      const baseline = path.join(GOLDEN, `${m.name}.ts.golden`);
      if (process.env.UPDATE_GOLDEN) fs.writeFileSync(baseline, m.ts);
      expect(m.ts).toBe(fs.readFileSync(baseline, "utf8"));
    });
  }
});

describe("determinism", () => {
  it("compiling the same project twice gives byte-identical TS and JS", () => {
    for (const dir of ["runbooks", GOLDEN, "test/compiler/fixtures"]) {
      const a = compileFolder(dir);
      const b = compileFolder(dir);
      expect(b.map((m) => m.name)).toEqual(a.map((m) => m.name));
      a.forEach((m, i) => {
        expect(b[i].ts).toBe(m.ts);
        expect(b[i].js).toBe(m.js);
      });
    }
  });
});

describe("tsc --strict --noEmit", () => {
  it("passes on the modules of runbooks/, the fixtures, the goldens and every grid case", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-tsc-"));
    try {
      const projects: [string, CompiledModule[]][] = [
        ["runbooks", compileFolder("runbooks")],
        ["fixtures", compileFolder("test/compiler/fixtures")],
        ["golden", compileFolder(GOLDEN)],
        ...Object.entries(grid).map(([name, c]): [string, CompiledModule[]] => [`grid-${name}`, compileProject(checked(c.src))]),
      ];
      const abi = abiText();
      let count = 0;
      for (const [name, modules] of projects) {
        const sub = path.join(dir, name);
        fs.mkdirSync(sub);
        fs.writeFileSync(path.join(sub, "abi.ts"), abi);
        for (const m of modules) fs.writeFileSync(path.join(sub, `${m.name}.ts`), m.ts);
        count += modules.length;
      }
      expect(count).toBeGreaterThan(60);
      fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", types: [], skipLibCheck: true },
          include: ["**/*.ts"],
        }),
      );
      const tsc = path.resolve("node_modules/typescript/bin/tsc");
      let out = "";
      try {
        // Not execFileSync: blocking the test worker for the minute tsc takes on a busy machine
        // made vitest's own messages to it time out ("Timeout calling onTaskUpdate").
        await promisify(execFile)(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
      } catch (e) {
        out = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(out).toBe("");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
