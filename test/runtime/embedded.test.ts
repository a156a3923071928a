// The README's quick start from a fresh copy of the project with no DATABASE_URL: the embedded
// PostgreSQL is created under .runbook/ on first use (or under /var/tmp when the copy sits in a
// folder the `postgres` user cannot traverse, as a root user's mktemp folder), shared by
// concurrent commands, restarted after a crash, and stopped by `runbook db stop`.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localSqlUrl, localStatus } from "../../runtime/db/local.js";
import { ROOT, runbook } from "./process.js";

const noDb = { DATABASE_URL: undefined, RUNBOOK_SECRET_KEY: undefined };

let copy: string;
/** `runbook` of the copy, run in the copy. */
const inCopy = (args: string[], timeoutMs?: number) => runbook(args, { cwd: copy, env: noDb, bin: path.join(copy, "bin", "runbook.js"), timeoutMs });

beforeAll(() => {
  // A fresh folder copy: the project's files (no .runbook/), and its installed node_modules.
  copy = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-quickstart-"));
  let files: string[];
  try {
    // The files of the working tree as the other tests see them: tracked, and new ones not ignored.
    files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split("\0")
      .filter(Boolean);
  } catch {
    // Not a git checkout: the folders a user needs to run a runbook.
    const walk = (d: string): string[] =>
      fs.readdirSync(path.join(ROOT, d), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    files = ["package.json", ...["bin", "cli", "compiler", "grammar", "runtime", "runbooks"].flatMap(walk)];
  }
  for (const f of files) {
    if (!fs.existsSync(path.join(ROOT, f))) continue;
    fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(copy, f));
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
});

afterAll(async () => {
  const status = localStatus(copy);
  if (status.running) await inCopy(["db", "stop"]);
  if (status.dataDir && !status.dataDir.startsWith(copy)) fs.rmSync(path.dirname(status.dataDir), { recursive: true, force: true });
  fs.rmSync(copy, { recursive: true, force: true });
});

describe("quick start on the embedded database", () => {
  it("starts one database for concurrent first commands", async () => {
    const [a, b] = await Promise.all([inCopy(["jobs"]), inCopy(["jobs"])]);
    expect(a).toMatchObject({ code: 0, stdout: "no jobs\n" });
    expect(b).toMatchObject({ code: 0, stdout: "no jobs\n" });
    const status = localStatus(copy);
    expect(status.running).not.toBeNull();
    if (process.getuid?.() === 0) expect(status.dataDir!.startsWith("/var/tmp/runbook-")).toBe(true); // mkdtemp is 0700
    const shown = await inCopy(["db", "status"]);
    expect(shown.stdout).toContain(`running: pid ${status.running!.pid}`);
  });

  it("runs the failover demo with `runbook run`", async () => {
    const r = await inCopy(["run", "runbooks/test_failover.runbook", "--param", "loops=3", "--param", "pause=1s"], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^run [0-9a-f-]{36}: 3 loops, 1000 ms apart$/);
    expect(lines.slice(1)).toEqual(["loop 1 written", "loop 2 written", "loop 3 written"]);
    expect(r.stderr).toMatch(/^job [0-9a-f-]{36}\n/);
    expect(r.stderr.match(/^log: wrote loop \d/gm)).toHaveLength(3);
    const run = lines[0].split(" ")[1].replace(":", "");
    // WriteLog's sql() ran in the sandbox database, as its role: not in the runtime's.
    const sandbox = new pg.Client({ connectionString: localSqlUrl(copy)! });
    await sandbox.connect();
    try {
      const { rows } = await sandbox.query("SELECT loop FROM demo_log WHERE run = $1 ORDER BY id", [run]);
      expect(rows.map((x) => x.loop)).toEqual([1, 2, 3]);
      const who = await sandbox.query("SELECT current_user AS name, rolsuper FROM pg_roles WHERE rolname = current_user");
      expect(who.rows).toEqual([{ name: "runbook_sql", rolsuper: false }]);
    } finally {
      await sandbox.end();
    }
    const runtime = new pg.Client({ connectionString: localStatus(copy).url! });
    await runtime.connect();
    try {
      expect((await runtime.query("SELECT to_regclass('demo_log') AS t")).rows[0].t).toBeNull();
      expect((await runtime.query("SELECT value FROM assets WHERE name = 'sql.default'")).rows[0].value).toBe(localSqlUrl(copy));
    } finally {
      await runtime.end();
    }
  });

  it("restarts the database after a crash left a stale pid file, and stops it with `db stop`", async () => {
    const before = localStatus(copy);
    process.kill(before.running!.pid, "SIGKILL");
    await waitForExit(before.running!.pid);
    expect(fs.existsSync(path.join(before.dataDir!, "postmaster.pid"))).toBe(true);
    const again = await inCopy(["jobs", "--status", "completed"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/test_failover\s+completed/);
    const after = localStatus(copy);
    expect(after.running!.pid).not.toBe(before.running!.pid);
    const stopped = await inCopy(["db", "stop"]);
    expect(stopped.stdout).toMatch(/^stopped the embedded database/);
    expect(localStatus(copy).running).toBeNull();
  });
});

/** Resolves once no process has this pid (a killed postmaster is gone, not just signalled). */
async function waitForExit(pid: number): Promise<void> {
  for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  throw new Error(`process ${pid} is still there 60 s after SIGKILL`);
}
