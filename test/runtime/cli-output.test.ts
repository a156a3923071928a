// What the CLI prints, checked through real processes: a reader that closes the pipe early ends
// the command quietly; --json on every command that prints data; `jobs --limit`; `worker --pool`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSED_PIPE_EXIT } from "../../cli/closed-pipe.js";
import { freshDatabaseUrl } from "../setup/db.js";
import { BIN, runbook } from "./process.js";

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-cli-output-"));
  fs.mkdirSync(path.join(dir, "rb"));
  fs.writeFileSync(
    path.join(dir, "rb", "hello.runbook"),
    `runbook hello(name: string) -> string {
  output "hello \${name}"
  output { who: name }
  return name
}
`,
  );
  env = { DATABASE_URL: await freshDatabaseUrl() };
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `runbook ARGS` with its stdout a real pipe whose reading end is closed before the command
 * writes anything (as `| head -1` does once it has its line): every write meets EPIPE, with no
 * timing window.
 */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("a reader that closes the pipe early", () => {
  it("ends `runbook --help` quietly with the closed-pipe exit code", async () => {
    const r = await runIntoClosedPipe(["--help"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(CLOSED_PIPE_EXIT);
  });

  it("ends `runbook jobs` quietly, and `runbook job ID`", async () => {
    expect((await runbook(["publish", "rb"], { cwd: dir, env })).code).toBe(0);
    expect((await runbook(["start", "hello", "--param", "name=pipe", "--id", "pipe-1"], { cwd: dir, env })).code).toBe(0);
    for (const args of [["jobs"], ["job", "pipe-1"]]) {
      const r = await runIntoClosedPipe(args);
      expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(CLOSED_PIPE_EXIT);
    }
  });
});

describe("--json on every command that prints data", () => {
  it("publish, start, output (JSON lines, also with --follow), deploy and db status each print JSON", async () => {
    const pub = await runbook(["publish", "rb", "--json"], { cwd: dir, env });
    expect(pub.code).toBe(0);
    expect(JSON.parse(pub.stdout)).toEqual([{ runbook: "hello", result: expect.stringMatching(/^(new|unchanged)$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);

    const started = await runbook(["start", "hello", "--param", "name=json", "--id", "json-1", "--json"], { cwd: dir, env });
    expect(started).toMatchObject({ code: 0, stdout: '{"id":"json-1"}\n' });
    const both = await runbook(["start", "hello", "--param", "name=json", "--json", "--wait"], { cwd: dir, env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^runbook: --json and --wait do not combine/);

    // `run` works through every queued job of the project, json-1 among them.
    const ran = await runbook(["run", "hello", "--param", "name=ran"], { cwd: dir, env });
    expect(ran.code).toBe(0);
    const runId = /^job (\S+)\n/.exec(ran.stderr)![1];
    const lines = (await runbook(["output", runId, "--json"], { cwd: dir, env })).stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { seq: 1, stream: "output", value: "hello ran", at: expect.any(String) },
      { seq: 2, stream: "output", value: { who: "ran" }, at: expect.any(String) },
    ]);
    // Text output reads times as a person does; --json (above and in cli.test.ts) keeps raw values.
    const shown = (await runbook(["job", runId], { cwd: dir, env })).stdout;
    expect(shown).toMatch(/^created:\s+\d{4}-\d\d-\d\dT\S+Z \((just now|\d+[smhd] ago)\)$/m);
    expect(shown).toMatch(/^took:\s+(\d+ms|\d+[smhd]( \d+[smh])?)$/m);
    const followed = await runbook(["output", runId, "--json", "--follow"], { cwd: dir, env });
    expect(followed.code).toBe(0);
    expect(followed.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual(lines);

    const deployed = await runbook(["deploy", "--workers", "w1", "--json"], { cwd: dir, env });
    expect(deployed.code).toBe(0);
    const view = JSON.parse(deployed.stdout);
    expect(view.deployment).toMatchObject({ workers: ["w1"], auto: false });
    expect(view.workers).toEqual([{ name: "w1", state: "never seen", slots: 0 }]);
    expect(deployed.stderr).toMatch(/warning: w1 is not a live worker/);
    const again = await runbook(["deploy", "--json"], { cwd: dir, env });
    expect(JSON.parse(again.stdout)).toEqual(view);

    const status = await runbook(["db", "status", "--json"], { cwd: dir, env });
    expect(JSON.parse(status.stdout)).toEqual({ databaseUrlSet: true, runbookDir: path.join(dir, ".runbook"), dataDir: null, running: null, port: null });
  });
});

describe("runbook jobs --limit", () => {
  it("lists the newest N, says on stderr that there are more, and refuses a bad N in one line", async () => {
    expect((await runbook(["publish", "rb"], { cwd: dir, env })).code).toBe(0);
    for (const id of ["limit-1", "limit-2", "limit-3"]) {
      expect((await runbook(["start", "hello", "--param", "name=l", "--id", id], { cwd: dir, env })).code).toBe(0);
    }
    const two = await runbook(["jobs", "--limit", "2", "--json"], { cwd: dir, env });
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout).map((j: { id: string }) => j.id)).toEqual(["limit-3", "limit-2"]);
    expect(two.stderr).toBe("runbook: showing the newest 2 jobs; there are more (--limit N shows more)\n");
    const text = await runbook(["jobs", "--limit", "1"], { cwd: dir, env });
    expect(text.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["limit-3"]);
    expect(text.stdout).toMatch(/^limit-3\s+hello\s+queued\s+-\s+-\s+(just now|\d+[smhd] ago)$/m);

    const all = await runbook(["jobs", "--limit", "100000", "--json"], { cwd: dir, env });
    expect(all.stderr).toBe("");
    expect(JSON.parse(all.stdout).length).toBeGreaterThanOrEqual(3);

    for (const bad of ["0", "-1", "2.5", "many", "1e3"]) {
      const r = await runbook(["jobs", "--limit", bad], { cwd: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`runbook: --limit ${bad} is not a whole number of jobs (1 or more)\n`);
    }
  });
});

describe("runbook worker --pool", () => {
  it("refuses a bad size in one line, exit 2, before opening the database", async () => {
    for (const bad of ["3", "0", "2.5", "many"]) {
      const r = await runbook(["worker", "--pool", bad], { cwd: dir, env });
      expect([r.code, r.stderr]).toEqual([2, `runbook: --pool must be a whole number of at least 4, not ${bad}\n`]);
    }
  });
});
