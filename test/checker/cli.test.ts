// `runbook check` as users run it: a real process, its exit code, stdout and stderr.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "../..");
let dir: string;

function check(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, "bin/runbook.js"), "check", ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-check-"));
  fs.mkdirSync(path.join(dir, "good"));
  fs.writeFileSync(path.join(dir, "good/hello.runbook"), 'runbook hello(name: string = "world") {\n  output "hello ${name}"\n}\n');
  fs.mkdirSync(path.join(dir, "bad"));
  fs.writeFileSync(path.join(dir, "bad/oops.runbook"), "runbook oops() {\n\tlet n: number = \"one\"\n  log n\n  let unused = 1\n}\n");
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("runbook check", () => {
  it("exits 0 on a clean project and prints a summary", () => {
    const r = check("good");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("0 errors, 0 warnings in 1 file\n");
  });

  it("exits 1 with text diagnostics, the caret aligned under a tab", () => {
    const r = check("bad", "good/hello.runbook");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        "bad/oops.runbook:2:18: error: `n` is declared as number but the value is string [RB2004]",
        '\tlet n: number = "one"',
        "\t                ^~~~~",
        "bad/oops.runbook:4:7: warning: `unused` is never used [RB2024]",
        "  let unused = 1",
        "      ^~~~~~",
        "  hint: remove it, or name it `_unused` to keep it unused",
        "1 error, 1 warning in 2 files",
        "",
      ].join("\n"),
    );
  });

  it("prints JSON on stdout", () => {
    const r = check("bad", "--format", "json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      { file: "bad/oops.runbook", line: 2, column: 18, endLine: 2, endColumn: 23, severity: "error", code: "RB2004", message: "`n` is declared as number but the value is string" },
      { file: "bad/oops.runbook", line: 4, column: 7, endLine: 4, endColumn: 13, severity: "warning", code: "RB2024", message: "`unused` is never used" },
    ]);
  });

  it("prints GitHub annotations on stdout", () => {
    const r = check("--format", "github", "bad");
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n")[0]).toBe(
      "::error file=bad/oops.runbook,line=2,col=18,endLine=2,endColumn=23,title=RB2004::`n` is declared as number but the value is string",
    );
    expect(r.stdout.split("\n")[1]).toBe(
      "::warning file=bad/oops.runbook,line=4,col=7,endLine=4,endColumn=13,title=RB2024::`unused` is never used%0Ahint: remove it, or name it `_unused` to keep it unused",
    );
  });

  it("exits 2 with one line for a missing path, and for a bad format", () => {
    const missing = check("nowhere/x.runbook");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("runbook: no such file or folder: nowhere/x.runbook\n");
    const format = check("--format", "xml", "good");
    expect(format.code).toBe(2);
    expect(format.stderr).not.toMatch(/\n\s+at /);
    const none = check();
    expect(none.code).toBe(2);
  });

  it("reports an unreadable or binary file as a diagnostic, not a crash", () => {
    fs.mkdirSync(path.join(dir, "odd"), { recursive: true });
    fs.writeFileSync(path.join(dir, "odd/bin.runbook"), Buffer.from([0x72, 0x00, 0xff, 0xfe, 0x00]));
    const r = check("odd");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("odd/bin.runbook:1:1: error: this is not a UTF-8 text file [RB9002]\n1 error, 0 warnings in 1 file\n");
  });
});
