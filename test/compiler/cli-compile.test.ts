// `runbook compile PATH... --out DIR [--check]`.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCheck } from "../../cli/check.js";
import { runCompile, type Manifest } from "../../cli/compile.js";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-compile-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const GOLDEN = "test/compiler/golden";

/** A project folder with the given runbook files. */
function project(files: Record<string, string>): string {
  const dir = path.join(tmp, "src");
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe("runbook compile", () => {
  it("writes NAME.ts, NAME.js, abi.ts and a manifest with names, files and hashes", () => {
    const out = path.join(tmp, "out");
    const r = runCompile([GOLDEN], { out });
    expect(r.exitCode).toBe(0);
    const names = fs.readdirSync(out).sort();
    expect(names).toEqual([
      "abi.ts",
      "finally_return.js",
      "finally_return.ts",
      "loop_checkpoint.js",
      "loop_checkpoint.ts",
      "manifest.json",
      "retry_activity.js",
      "retry_activity.ts",
      "retry_call.js",
      "retry_call.ts",
      "straight.js",
      "straight.ts",
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(manifest.runbooks.map((m) => [m.name, m.file])).toEqual([
      ["finally_return", `${GOLDEN}/finally_return.runbook`],
      ["loop_checkpoint", `${GOLDEN}/loop_checkpoint.runbook`],
      ["retry_activity", `${GOLDEN}/retry_activity.runbook`],
      ["retry_call", `${GOLDEN}/retry_call.runbook`],
      ["straight", `${GOLDEN}/straight.runbook`],
    ]);
    expect(manifest.runbooks[0].js).toMatch(/^[0-9a-f]{64}$/);
    // The JS imports nothing at run time (the runtime loads it from a data: URL).
    expect(fs.readFileSync(path.join(out, "straight.js"), "utf8")).not.toMatch(/\bimport\b/);
  });

  it("--check exits 0 on an up-to-date folder and 1 naming each stale, missing or extra file", () => {
    const out = path.join(tmp, "out");
    expect(runCompile([GOLDEN], { out }).exitCode).toBe(0);
    const fresh = runCompile([GOLDEN], { out, check: true });
    expect(fresh).toMatchObject({ exitCode: 0 });
    expect(fresh.stderr).toContain("up to date");

    fs.appendFileSync(path.join(out, "straight.js"), "// edited\n");
    fs.rmSync(path.join(out, "retry_call.ts"));
    const stale = runCompile([GOLDEN], { out, check: true });
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain(`stale: ${path.join(out, "straight.js")}`);
    expect(stale.stderr).toContain(`missing: ${path.join(out, "retry_call.ts")}`);
    expect(stale.stderr).not.toContain("loop_checkpoint");

    // A runbook removed from the project leaves files the manifest lists: extra.
    const src = project({ "a.runbook": "runbook a() {\n  output 1\n}\n", "b.runbook": "runbook b() {\n  output 2\n}\n" });
    const out2 = path.join(tmp, "out2");
    expect(runCompile([src], { out: out2 }).exitCode).toBe(0);
    fs.rmSync(path.join(src, "b.runbook"));
    const extra = runCompile([src], { out: out2, check: true });
    expect(extra.exitCode).toBe(1);
    expect(extra.stderr).toContain(`extra: ${path.join(out2, "b.ts")}`);
    // Compiling again removes them.
    expect(runCompile([src], { out: out2 }).exitCode).toBe(0);
    expect(fs.existsSync(path.join(out2, "b.ts"))).toBe(false);
    expect(runCompile([src], { out: out2, check: true }).exitCode).toBe(0);
  });

  it("--check exits 1 when the folder is missing, and writes nothing", () => {
    const out = path.join(tmp, "nothing-here");
    const r = runCompile([GOLDEN], { out, check: true });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${out} is missing`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("prints errors exactly as runbook check does and writes nothing", () => {
    const src = project({ "bad.runbook": "runbook bad() {\n  let x = y + 1\n}\n" });
    const out = path.join(tmp, "out");
    const r = runCompile([src], { out });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(runCheck([src], "text").stderr);
    expect(r.stderr).toContain("bad.runbook:2:11: error:");
    expect(fs.existsSync(out)).toBe(false);
  });

  it("the CLI exits 1 on a stale folder and 0 after compiling", () => {
    const out = path.join(tmp, "cli-out");
    const cli = (...args: string[]): number => {
      try {
        execFileSync(process.execPath, ["bin/runbook.js", ...args], { stdio: "pipe" });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    };
    expect(cli("compile", GOLDEN, "--out", out, "--check")).toBe(1);
    expect(cli("compile", GOLDEN, "--out", out)).toBe(0);
    expect(cli("compile", GOLDEN, "--out", out, "--check")).toBe(0);
  });
});
