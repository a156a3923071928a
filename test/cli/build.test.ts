// The compiled build (bin/build.js into dist/) and the bin's choice between it and the
// TypeScript sources (bin/build-state.js): a current build runs; a build that any edit, new
// file or removed file has made stale never does, the sources run instead. Each case runs real
// `node bin/runbook.js` processes in a temporary project with the real bin files, plus the real
// project built from a copy, running a `.ts` activity module from the build.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN_FILES = ["runbook.js", "build.js", "build-state.js"];
const made: string[] = [];

afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tempRoot(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

function write(root: string, file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
}

/** Runs `node bin/runbook.js ARGS` in `root` with RUNBOOK_DEBUG set (the bin then says why it runs the sources). */
function run(root: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "runbook.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, RUNBOOK_DEBUG: "1", RUNBOOK_FROM_SOURCE: "", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function build(root: string): string {
  return execFileSync(process.execPath, [path.join(root, "bin", "build.js")], { cwd: root, encoding: "utf8", timeout: 120_000 });
}

describe("dist/ and the bin", () => {
  // A miniature project: the real bin files, a cli/main.ts printing a word from another module.
  const root = tempRoot("runbook-build-");
  fs.mkdirSync(path.join(root, "bin"));
  for (const f of BIN_FILES) fs.copyFileSync(path.join(ROOT, "bin", f), path.join(root, "bin", f));
  fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(root, "tsconfig.json"));
  write(root, "package.json", '{ "type": "module" }\n');
  for (const d of ["grammar", "format", "compiler", "runtime"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  write(root, "runtime/migrations/0001_init.sql", "SELECT 1;\n");
  write(root, "cli/word.ts", 'export const word: string = "one";\n');
  write(root, "cli/main.ts", 'import { word } from "./word.js";\nprocess.stdout.write(`${word}\\n`);\n');

  it("runs the sources when there is no build", () => {
    const r = run(root);
    expect(r).toMatchObject({ code: 0, stdout: "one\n" });
    expect(r.stderr).toContain("running the TypeScript sources (no build in dist/");
  });

  it("runs a current build, with the non-TypeScript files copied", () => {
    expect(build(root)).toMatch(/^runbook: built 2 modules into dist\/ in \d+ ms\n$/);
    expect(fs.readFileSync(path.join(root, "dist/runtime/migrations/0001_init.sql"), "utf8")).toBe("SELECT 1;\n");
    // Proof that the build is what runs: its copy of the word, changed behind the bin's back.
    const built = path.join(root, "dist/cli/word.js");
    fs.writeFileSync(built, fs.readFileSync(built, "utf8").replace('"one"', '"built"'));
    expect(run(root)).toEqual({ code: 0, stdout: "built\n", stderr: "" });
    expect(run(root, [], { RUNBOOK_FROM_SOURCE: "1" })).toMatchObject({ code: 0, stdout: "one\n" });
  });

  it("never runs a stale build: an edited, a new or a removed source file makes it stale", () => {
    build(root);
    write(root, "cli/word.ts", 'export const word: string = "two";\n');
    let r = run(root);
    expect(r.stdout).toBe("two\n");
    expect(r.stderr).toContain("cli/word.ts changed since the build");

    build(root);
    expect(run(root)).toEqual({ code: 0, stdout: "two\n", stderr: "" });
    write(root, "compiler/extra.ts", "export {};\n");
    r = run(root);
    expect(r.stdout).toBe("two\n");
    expect(r.stderr).toContain("compiler/extra.ts is new since the build");

    build(root);
    fs.rmSync(path.join(root, "compiler/extra.ts"));
    r = run(root);
    expect(r.stdout).toBe("two\n");
    expect(r.stderr).toContain("compiler/extra.ts was removed since the build");

    build(root);
    write(root, "runtime/migrations/0002_more.sql", "SELECT 2;\n");
    expect(run(root).stderr).toContain("runtime/migrations/0002_more.sql is new since the build");
    build(root);
    write(root, "tsconfig.json", fs.readFileSync(path.join(root, "tsconfig.json"), "utf8") + "\n");
    expect(run(root).stderr).toContain("tsconfig.json changed since the build");
  });

  it("refuses a source that does not compile with a one-line error and keeps the old build", () => {
    build(root);
    write(root, "cli/word.ts", "export const = ;\n");
    const r = spawnSync(process.execPath, [path.join(root, "bin", "build.js")], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('runbook: build failed: cli/word.ts:1:14: Expected identifier but found "="\n');
    expect(fs.existsSync(path.join(root, "dist/manifest.json"))).toBe(true);
    expect(fs.readdirSync(root).filter((f) => f.startsWith("dist."))).toEqual([]);
  });
});

describe("the real project from its build", () => {
  it("runs a runbook whose activities are a .ts module", () => {
    // A copy of the project's files (as a clone has them), built, then `runbook test` on a
    // runbook that calls runbooks/activities.ts: the worker side of the build loads TypeScript.
    const copy = tempRoot("runbook-build-project-");
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const f of files) {
      if (!fs.existsSync(path.join(ROOT, f))) continue;
      fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(copy, f));
    }
    build(copy);
    expect(run(copy, ["--version"])).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
    const r = run(copy, ["test", "runbooks/build_vm.runbook", "--param", "name=web1"], { RUNBOOK_DEMO_BOOT_MS: "0", RUNBOOK_DEMO_DIR: path.join(copy, "demo") });
    expect(r.stderr).not.toContain("running the TypeScript sources");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("web1 is ready as vm-web1");
  });
});
