// `runbook test`: parameters read by declared type, signals, exit codes, the summary, and the
// divergence report (a real runbook made nondeterministic through an activity).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { CliError } from "../../cli/errors.js";
import { parseDuration, parseParams, parseSignal } from "../../cli/test.js";
import { checkSources } from "../../compiler/program.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = mkdtempSync(path.join(tmpdir(), "runbook-test-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a project folder and returns the path of its first file. */
function project(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return path.join(dir, Object.keys(files)[0]);
}

function runbookTest(file: string, ...flags: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, "bin/runbook.js"), "test", file, ...flags], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PARAMS = `runbook params(count: number, pause: duration = 1s, hosts: list<string> = ["a"], dry: bool = false, name: string = "x", at: time? = null, cfg: {size: number} = {size: 1}) {
  output count
}
`;

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(2);
    return (e as CliError).message;
  }
  throw new Error("expected a usage error");
}

describe("--param and --signal", () => {
  const checked = checkSources([{ file: "params.runbook", text: PARAMS }]);
  const rb = checked.runbooks.get("params")!;

  it("reads each value by its declared type", () => {
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(
      parseParams(rb, ["count=3", "pause=1h30m", 'hosts=["web1","web2"]', "dry=true", "name=hello world", "at=2026-05-01T12:00:00Z", 'cfg={"size":4}']),
    ).toEqual({ count: 3, pause: 5_400_000, hosts: ["web1", "web2"], dry: true, name: "hello world", at: "2026-05-01T12:00:00.000Z", cfg: { size: 4 } });
    expect(parseParams(rb, ["count=-1.5", "at=null"])).toEqual({ count: -1.5, at: null });
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("5")).toBeNull();
  });

  it("refuses missing, unknown, repeated and ill-typed parameters with one line naming them", () => {
    expect(usageError(() => parseParams(rb, []))).toBe("missing parameter count (number): pass --param count=VALUE");
    expect(usageError(() => parseParams(rb, ["count=1", "regoin=eu"]))).toBe("unknown parameter regoin for runbook params (it takes count, pause, hosts, dry, name, at, cfg)");
    expect(usageError(() => parseParams(rb, ["count=1", "count=2"]))).toBe("parameter count is given twice");
    expect(usageError(() => parseParams(rb, ["count=abc"]))).toBe('parameter count (number): "abc" is not a number');
    expect(usageError(() => parseParams(rb, ["count="]))).toBe('parameter count (number): "" is not a number');
    expect(usageError(() => parseParams(rb, ["count=1", "pause=5"]))).toBe('parameter pause (duration): "5" is not a duration (write it like 30s, 2m, 1h30m or 250ms)');
    expect(usageError(() => parseParams(rb, ["count=1", "dry=yes"]))).toBe('parameter dry (bool): "yes" is not true or false');
    expect(usageError(() => parseParams(rb, ["count=1", "hosts=web1"]))).toBe('parameter hosts (list<string>): "web1" is not JSON');
    expect(usageError(() => parseParams(rb, ["count=1", "hosts=[1]"]))).toMatch(/^parameter hosts \(list<string>\): \[0\]: expected string, got number 1$/);
    expect(usageError(() => parseParams(rb, ["count=1", "at=tuesday"]))).toMatch(/^parameter at \(time\?\): "tuesday" is not a time/);
    expect(usageError(() => parseParams(rb, ["count"]))).toBe("--param count: write it as NAME=VALUE");
  });

  it("reads signals as NAME=JSON", () => {
    expect(parseSignal('approve={"by":"ops"}')).toEqual({ name: "approve", value: { by: "ops" } });
    expect(usageError(() => parseSignal("approve=yes"))).toBe('--signal approve: the payload "yes" is not JSON');
    expect(usageError(() => parseSignal("approve"))).toBe("--signal approve: write it as NAME=JSON");
  });
});

describe("runbook test (the command)", () => {
  it("prints the output stream, a summary, and exits 0 when the runs agree", () => {
    const file = project("ok", {
      "rollout.runbook": `runbook rollout(hosts: list<string>, pause: duration = 1s) -> number {
  let done = 0
  for i, h in hosts {
    let go = wait "approve" timeout 1m
    if go == null {
      warn "no approval for \${h}"
      continue
    }
    sleep pause
    output "restarted \${h}"
    output {host: h, at: now()}
    done += 1
  }
  log "done"
  return done
}
`,
    });
    const r = runbookTest(file, "--param", 'hosts=["web1","web2"]', "--param", "pause=30s", "--signal", "approve=true");
    expect(r.stderr).toContain("rollout: completed, result 1");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('restarted web1\n{"host":"web1","at":"2026-01-01T00:00:30.000Z"}\n');
    expect(r.stderr).toContain("warning: no approval for web2\n");
    expect(r.stderr).toContain("log: done\n");
    expect(r.stderr).toContain("3 suspension points; runs: 4 straight, 4 interrupted at every suspension point, 8 re-running each segment before its checkpoint");
  });

  it("exits 2 for a bad parameter or a missing file, 1 for compile errors", () => {
    const file = project("bad-param", { "p.runbook": "runbook p(n: number) {\n  output n\n}\n" });
    const missing = runbookTest(file);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("runbook: missing parameter n (number): pass --param n=VALUE\n");
    const noFile = runbookTest(path.join(tmp, "nope.runbook"));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("no such file");
    const broken = project("broken", { "b.runbook": "runbook b() {\n  output undefined_name\n}\n" });
    const r = runbookTest(broken);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/b\.runbook:2:10: error: .*undefined_name/);
    expect(r.stdout).toBe("");
  });

  it("exits 1 when the job fails, printing FILE:LINE:COL: error: MESSAGE", () => {
    const file = project("fails", {
      "deploy.runbook": `runbook deploy() {
  let cfg: map<string> = {region: "eu"}
  output "start"
  checkpoint
  output cfg["regoin"]
}
`,
    });
    const r = runbookTest(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("start\n");
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:5:\\d+: error: map has no key "regoin"\\n`));
  });

  it("reports the first divergence when an activity makes the runs differ", () => {
    const file = project("diverge", {
      "flaky.runbook": `use "./counter.ts" as counter

runbook flaky() -> number {
  output "same"
  checkpoint
  let n = counter.next()
  output "call \${n}"
  return n
}
`,
      // Outside this repository a .ts activity module needs a package.json saying ESM.
      "package.json": '{ "type": "module" }',
      "counter.ts": `let n = 0;
/** Counts calls in this process: a deliberately nondeterministic activity. */
export async function next(_args: {}): Promise<number> {
  n += 1;
  return n;
}
`,
    });
    const r = runbookTest(file);
    expect(r.stdout).toBe("same\ncall 1\n");
    expect(r.stderr).toContain(
      "runbook test: the run interrupted at every suspension point differs from the straight run: stream record 2 is output \"call 2\"; the straight run wrote output \"call 1\"",
    );
    expect(r.code).toBe(1);
  });
});
