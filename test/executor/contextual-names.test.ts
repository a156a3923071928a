// Issue 12, "names that aren't taken": a runbook using `start`, `timeout`, `output`, `log`,
// `error`, `retry`, `wait` and `sleep` as parameter, local and field names checks, compiles and
// runs through the real CLI (`bin/runbook.js`), and a reserved word as a name is RB1032.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const corpus = path.join(root, "test/corpus/runbooks");
const tmp = mkdtempSync(path.join(tmpdir(), "runbook-contextual-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// The corpus fixture and the helper it starts, as a project of their own.
const project = path.join(tmp, "project");
mkdirSync(project);
for (const f of ["contextual_names.runbook", "contextual_names_child.runbook"]) copyFileSync(path.join(corpus, f), path.join(project, f));
const fixture = path.join(project, "contextual_names.runbook");

function runbook(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, "bin/runbook.js"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Each step is a CLI process (and one runs tsc): minutes, not seconds, on a loaded machine.
describe("contextual words as names, through the CLI", { timeout: 240_000 }, () => {
  it("runbook check finds no error", () => {
    const r = runbook("check", project);
    expect(r.stderr).toBe("0 errors, 0 warnings in 2 files\n");
    expect(r.code).toBe(0);
  });

  it("runbook compile writes the runbook and its helper", () => {
    const out = path.join(tmp, "out");
    const r = runbook("compile", project, "--out", out);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(out, "contextual_names.ts"))).toBe(true);
    expect(existsSync(path.join(out, "contextual_names_child.ts"))).toBe(true);
    // The emitted TypeScript of both passes `tsc --strict` (locals named like keywords included).
    writeFileSync(
      path.join(out, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", types: [], skipLibCheck: true },
        files: ["contextual_names.ts", "contextual_names_child.ts"],
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", out], { encoding: "utf8", timeout: 120_000 });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });

  it("runbook test runs it in every mode with the expected output and result", () => {
    const r = runbook("test", fixture, "--param", "start=6", "--signal", 'go={"output":"from signal"}');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 9)).toEqual([
      "start=6 steps=8",
      '{"start":6,"timeout":300000,"output":"o","log":true,"error":null,"retry":2,"wait":1,"sleep":0}',
      "[5,2]",
      "o!",
      "from signal",
      "3",
      "none",
      "12",
      "20",
    ]);
    expect(r.stdout + r.stderr).toContain('contextual_names: completed, result {"start":6,"steps":8,"retry":3}');
  });

  it("a reserved word as a name fails the check with RB1032 and a rename hint", () => {
    const file = path.join(tmp, "bad.runbook");
    writeFileSync(file, "runbook bad(for: number) {\n  output for\n}\n");
    const r = runbook("check", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:1:13: error: \`for\` is a reserved word [RB1032]`);
    expect(r.stderr).toContain("hint: rename it, for example to `for_` or a longer name");
  });
});
