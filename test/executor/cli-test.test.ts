// `runbook test`: parameters read by declared type, signals, exit codes, the summary, activities
// run once and replayed, and the divergence report (a deliberately nondeterministic module).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { OperatorError } from "../../runtime/operator/errors.js";
import { parseDuration, parseParams, parseSignal, report } from "../../cli/test.js";
import { checkSources } from "../../compiler/program.js";
import { programOf, runAllModes } from "../../runtime/memory.js";
import { hand } from "./hand.js";

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
    // The parameter reader is the runtime's (shared with the HTTP API): an OperatorError, of
    // which CliError is one.
    expect(e).toBeInstanceOf(OperatorError);
    expect((e as OperatorError).exitCode).toBe(2);
    return (e as OperatorError).message;
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

  it("prints the records of parallel for branches, nested ones too, each marked with its element", () => {
    const file = project("branches", {
      "fan.runbook": `runbook fan(hosts: list<string>) -> list<string> {
  output "before"
  let rs = parallel for h in hosts (limit: 1) {
    checkpoint
    output "restarted \${h}"
    let parts = parallel for i in 1..2 {
      log "part \${i} of \${h}"
      return i
    }
    warn "\${h} has \${len(parts)} parts"
    return h
  }
  output rs
  return rs
}
`,
    });
    const r = runbookTest(file, "--param", 'hosts=["web1","web2"]');
    expect(r.stderr).toContain('fan: completed, result ["web1","web2"]');
    expect(r.code).toBe(0);
    // In commit order: the parent, each branch in turn (one at a time in memory), the parent again.
    expect(r.stdout).toBe('before\n[web1] restarted web1\n[web2] restarted web2\n["web1","web2"]\n');
    expect(r.stderr.split("\n").filter((l) => l.startsWith("["))).toEqual([
      "[web1 / 1] log: part 1 of web1",
      "[web1 / 2] log: part 2 of web1",
      "[web1] warning: web1 has 2 parts",
      "[web2 / 1] log: part 1 of web2",
      "[web2 / 2] log: part 2 of web2",
      "[web2] warning: web2 has 2 parts",
    ]);
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

  it("runs each activity once: the interrupted runs replay its answers", () => {
    const file = project("activities", {
      "stamp.runbook": `use "./ledger.ts" as ledger

runbook stamp() -> number {
  output "same"
  checkpoint
  let n = ledger.append(line: "first")
  sleep 1s
  let m = ledger.append(line: "second")
  output "calls \${n} \${m}"
  return m
}
`,
      // Outside this repository a .ts activity module needs a package.json saying ESM.
      "package.json": '{ "type": "module" }',
      "ledger.ts": `import { appendFileSync, readFileSync } from "node:fs";
/** Appends a line to ledger.txt next to this module and returns how many lines it holds. */
export async function append(args: { line: string }): Promise<number> {
  const file = new URL("./ledger.txt", import.meta.url);
  appendFileSync(file, args.line + "\\n");
  return readFileSync(file, "utf8").trim().split("\\n").length;
}
`,
    });
    const r = runbookTest(file);
    expect(r.stderr).toContain("stamp: completed, result 2");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("same\ncalls 1 2\n");
    expect(readFileSync(path.join(path.dirname(file), "ledger.txt"), "utf8")).toBe("first\nsecond\n");
  });
});

describe("runbook test's report", () => {
  it("exits 1 with the first divergence of a deliberately nondeterministic runbook", async () => {
    // A hand-made module that keeps a counter outside its frame: a real interruption loses it.
    let n = 0;
    const leaky = hand("leaky", { 1: [] }, (frame, ctx) => {
      if (frame.pc === 0) {
        ctx.emit("output", "same");
        frame.pc = 1;
        return { kind: "checkpoint", label: null };
      }
      n += 1;
      ctx.emit("output", `count ${n}`);
      return { kind: "return", value: n };
    });
    const out = report("leaky", await runAllModes(programOf([leaky]), "leaky", {}, {}));
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toBe("same\ncount 1\n");
    expect(out.stderr).toBe(
      "leaky: completed, result 1\n" +
        "  1 suspension point; runs: 2 straight, 2 interrupted at every suspension point, 4 re-running each segment before its checkpoint\n" +
        'runbook test: the run interrupted at every suspension point differs from the straight run: stream record 2 is output "count 2"; the straight run wrote output "count 1"\n',
    );
  });

  it("exits 1 for a failed job and 0 for a completed one whose runs agree", async () => {
    const failing = hand("failing", {}, () => ({ kind: "throw", error: { message: "disk full", runbook: "failing", file: "ops/failing.runbook", line: 7, column: 3, data: null } }));
    const out = report("failing", await runAllModes(programOf([failing]), "failing", {}, {}));
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain("ops/failing.runbook:7:3: error: disk full\n");
    const fine = hand("fine", {}, () => ({ kind: "return", value: { ok: true } }));
    const ok = report("fine", await runAllModes(programOf([fine]), "fine", {}, {}));
    expect(ok).toEqual({ stdout: "", stderr: 'fine: completed, result {"ok":true}\n  0 suspension points; runs: 1 straight, 1 interrupted at every suspension point, 2 re-running each segment before its checkpoint\n', exitCode: 0 });
  });
});
