// The runtime's CLI as a user runs it, in real processes: publish, start (bad parameters refused
// before any job exists, --id idempotent, --wait), jobs, job, output, signal, suspend/resume, an
// unreachable database, and unknown names.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabaseUrl } from "../setup/db.js";
import { BIN, runbook } from "./process.js";

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-cli-"));
  fs.mkdirSync(path.join(dir, "rb"));
  fs.writeFileSync(
    path.join(dir, "rb", "greet.runbook"),
    `runbook greet(name: string, times: number = 2) -> number {
  for i in 1..times {
    output "hello \${name} \${i}"
  }
  let ok = wait "approve" timeout 30s
  output "approved: \${ok}"
  return times
}
`,
  );
  fs.mkdirSync(path.join(dir, "rb2"));
  fs.writeFileSync(
    path.join(dir, "rb2", "fails.runbook"),
    `runbook fails(n: number = 1) {
  output "start"
  fail "boom \${n}"
}
`,
  );
  // Error positions through finally blocks (issue 12): one caught, one failing the job.
  fs.mkdirSync(path.join(dir, "rb3"));
  fs.writeFileSync(
    path.join(dir, "rb3", "positions.runbook"),
    `runbook positions(n: number = 0) {
  try {
    try {
      fail "boom"
    } finally {
      output "in finally"
    }
  } catch e {
    output "\${e.message} at \${e.line}:\${e.column}"
  }
  let xs = [1]
  try {
    checkpoint
    output xs[n + 5]
  } finally {
    output "cleanup"
    let z = 1 + 2
  }
}
`,
  );
  env = { DATABASE_URL: await freshDatabaseUrl() };
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("runbook CLI on a database", () => {
  it("publishes, refuses bad parameters before any job exists, and starts idempotently with --id", async () => {
    const pub = await runbook(["publish", "rb"], { cwd: dir, env });
    expect(pub.stderr).toBe("");
    expect(pub.stdout).toMatch(/^greet: published [0-9a-f]{12}\n$/);
    const again = await runbook(["publish", "rb"], { cwd: dir, env });
    expect(again.stdout).toMatch(/^greet: unchanged /);

    const bad = await runbook(["start", "greet", "--param", "name=x", "--param", "times=lots"], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('runbook: parameter times (number): "lots" is not a number\n');
    const missing = await runbook(["start", "greet"], { cwd: dir, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing parameter name \(string\)/);
    const none = await runbook(["jobs", "--json"], { cwd: dir, env });
    expect(JSON.parse(none.stdout)).toEqual([]);

    const unknown = await runbook(["start", "greeet"], { cwd: dir, env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^runbook: no published runbook greeet \(did you mean greet\?\)\n$/);

    const first = await runbook(["start", "greet", "--param", "name=ops", "--id", "greet-1"], { cwd: dir, env });
    const second = await runbook(["start", "greet", "--param", "name=ops", "--id", "greet-1"], { cwd: dir, env });
    expect(first).toMatchObject({ code: 0, stdout: "greet-1\n" });
    expect(second).toMatchObject({ code: 0, stdout: "greet-1\n" });
    const listed = JSON.parse((await runbook(["jobs", "--json"], { cwd: dir, env })).stdout);
    expect(listed.map((j: { id: string }) => j.id)).toEqual(["greet-1"]);
  });

  it("runs a job with `start --wait`, takes a signal, and shows it with job and output", async () => {
    const started = runbook(["start", "greet", "--param", "name=team", "--param", "times=3", "--id", "greet-2", "--wait"], { cwd: dir, env });
    // No worker yet: start one that runs until the job is done.
    const signalled = (async () => {
      for (;;) {
        const r = await runbook(["signal", "greet-2", "approve", '"yes"'], { cwd: dir, env });
        if (r.code === 0) return r;
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    const worker = spawn(process.execPath, [BIN, "worker", "--name", "cli-w"], { cwd: dir, env: { ...process.env, ...env }, stdio: "ignore" });
    try {
      const sent = await signalled;
      expect(sent.stdout).toMatch(/signal approve/);
      const done = await started;
      expect(done.code).toBe(0);
      expect(done.stdout).toBe("greet-2\nhello team 1\nhello team 2\nhello team 3\napproved: yes\n");
    } finally {
      const exited = new Promise((r) => worker.on("exit", r));
      worker.kill("SIGTERM");
      await exited;
    }
    const shown = await runbook(["job", "greet-2"], { cwd: dir, env });
    expect(shown.stdout).toMatch(/^status:\s+completed$/m);
    expect(shown.stdout).toMatch(/^result:\s+3$/m);
    expect(shown.stdout).toMatch(/queued -> running on cli-w/);
    const out = await runbook(["output", "greet-2"], { cwd: dir, env });
    expect(out.stdout).toBe("hello team 1\nhello team 2\nhello team 3\napproved: yes\n");
    const json = JSON.parse((await runbook(["job", "greet-2", "--json"], { cwd: dir, env })).stdout);
    expect(json.job.status).toBe("completed");
    // The signal may come before the wait (kept in the mailbox) or after (it wakes the job).
    expect(json.history[0].to_status).toBe("queued");
    expect(json.history.at(-1).to_status).toBe("completed");
    const workers = await runbook(["workers"], { cwd: dir, env });
    expect(workers.stdout).toMatch(/cli-w\s+stopped/);
  });

  it("suspends and resumes a waiting job, and refuses unknown job ids", async () => {
    const s = await runbook(["suspend", "greet-1"], { cwd: dir, env });
    expect(s).toMatchObject({ code: 0, stdout: "job greet-1: suspended\n" });
    const r = await runbook(["resume", "greet-1"], { cwd: dir, env });
    expect(r).toMatchObject({ code: 0, stdout: "job greet-1: resumed\n" });
    const stop = await runbook(["stop", "greet-1"], { cwd: dir, env });
    expect(stop.stdout).toBe("job greet-1: stopped\n");
    const unknown = await runbook(["stop", "greet-9"], { cwd: dir, env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("runbook: no job greet-9 (did you mean greet-1, greet-2?)\n");
    const badJson = await runbook(["signal", "greet-2", "approve", "{nope"], { cwd: dir, env });
    expect(badJson.code).toBe(2);
    const noJob = await runbook(["job", "nothing-here"], { cwd: dir, env });
    expect(noJob).toMatchObject({ code: 1, stderr: "runbook: no job nothing-here\n" });
  });

  it("runs a failing runbook with `run`: its error with the .runbook position, exit 1", async () => {
    const r = await runbook(["run", "rb2/fails.runbook", "--param", "n=7"], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("start\n");
    expect(r.stderr).toMatch(/^runbook: job [0-9a-f-]{36} failed: rb2\/fails\.runbook:3:\d+: boom 7$/m);
    const byName = await runbook(["run", "fails", "--param", "n=seven"], { cwd: dir, env });
    expect(byName).toMatchObject({ code: 2, stderr: 'runbook: parameter n (number): "seven" is not a number\n' });
  });

  it("a worker fails a job at the expression that raised the error, through a finally; `job` shows it", async () => {
    const r = await runbook(["run", "rb3/positions.runbook"], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("in finally\nboom at 4:7\ncleanup\n");
    const m = /^runbook: job ([0-9a-f-]{36}) failed: rb3\/positions\.runbook:14:12: index 5 is out of range for a list of 1$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const shown = await runbook(["job", m![1]], { cwd: dir, env });
    expect(shown.stdout).toMatch(/^error:\s+rb3\/positions\.runbook:14:12: index 5 is out of range for a list of 1$/m);
  });

  it("drains a worker process: it stops and exits 0", async () => {
    const worker = spawn(process.execPath, [BIN, "worker", "--name", "cli-drained"], { cwd: dir, env: { ...process.env, ...env }, stdio: "ignore" });
    const exited = new Promise<number | null>((r) => worker.on("exit", (code) => r(code)));
    let drained;
    for (let i = 0; i < 40; i++) {
      drained = await runbook(["drain", "cli-drained", "--timeout", "5s"], { cwd: dir, env });
      if (drained.code === 0) break;
      expect(drained.stderr).toMatch(/no live worker cli-drained/);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(drained!.stdout).toMatch(/^draining cli-drained: 0 running jobs hand over at their next checkpoint \(timeout 5s\)\ncli-drained has drained and stopped\n$/);
    expect(await exited).toBe(0);
  });

  it("reports an unreachable database in one line naming its host", async () => {
    const r = await runbook(["jobs"], { cwd: dir, env: { DATABASE_URL: "postgres://someone:secret@127.0.0.1:1/nowhere" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^runbook: cannot reach the database at 127\.0\.0\.1:1: .+\n$/);
    expect(r.stderr).not.toMatch(/secret|    at /);
  });
});

it("refuses an argument of control characters in one line, the characters escaped", async () => {
  // The soak's random bytes: an argument that starts with '-' is an unknown option, and
  // commander quoted it raw, newline and all.
  const r = await runbook(["signal", "some-job", "go", "-\u000eX\nY\rZ"], { cwd: dir, env });
  expect(r.code).toBe(2);
  expect(r.stderr).toBe("error: unknown option '-\\u000eX\\u000aY\\u000dZ'\n");
});
