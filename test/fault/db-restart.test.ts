// The embedded database restarting under running workers (issue 9): a project folder of its own
// with its own embedded cluster (no DATABASE_URL anywhere), real `runbook worker` processes in it
// running ledger jobs, then the real `runbook db stop`, an outage past the lease, and any command
// (`runbook workers`) starting the database again. The workers resume by themselves: on the same
// port when it is free, and on a new one when something else took the old port meanwhile. Every
// job completes exactly once. The ledger lives on the test run's server, so it records what the
// workers do through the outage.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { localStatus } from "../../runtime/db/local.js";
import { insertJobs } from "../../runtime/sql/enqueue.js";
import { freshDatabaseUrl } from "../setup/db.js";
import { BIN, ROOT, runbook, type Ran } from "../runtime/process.js";
import { FIXTURES, HEARTBEAT_MS, TIMEOUT_MS, badResumes, finishedCounts, overlaps, waitFor, type LedgerRow } from "./harness.js";

/** How long past the lease the workers may take to resume on this loaded machine (a deadline, not a window). */
const SLACK_MS = 30_000;
const STEPS = 6;
const JOBS = 24;

interface WorkerProc {
  name: string;
  child: ChildProcess;
  stderr: string;
  exitCode: number | null;
}

let project: string;
let ledger: pg.Pool;
const workers: WorkerProc[] = [];
let squatter: net.Server | null = null;
const squatted = new Set<net.Socket>();

/** `runbook ARGS` in the project folder, on its embedded database. */
function cli(args: string[]): Promise<Ran> {
  return runbook(args, { cwd: project, env: { DATABASE_URL: undefined }, timeoutMs: 120_000 });
}

/** A pool on the project's database where it runs now (made again when it moved). */
let projectPool: { url: string; pool: pg.Pool } | null = null;
async function q<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
  const url = localStatus(project).url;
  if (!url) throw new Error("the project's database is not running");
  if (projectPool?.url !== url) {
    await projectPool?.pool.end().catch(() => undefined);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on("error", () => undefined);
    projectPool = { url, pool };
  }
  return (await projectPool.pool.query<R>(text, params)).rows;
}

function startWorker(name: string): Promise<WorkerProc> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RUNBOOK_HEARTBEAT_MS: String(HEARTBEAT_MS),
    RUNBOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    RUNBOOK_POLL_MS: "500",
    LEDGER_URL: ledgerUrl,
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [BIN, "worker", "--name", name, "--concurrency", "4"], { cwd: project, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  // Should this test process die without its hooks, the worker's group goes with it.
  spawn("sh", ["-c", `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill -9 -${child.pid} 2>/dev/null`], { detached: true, stdio: "ignore" }).unref();
  const w: WorkerProc = { name, child, stderr: "", exitCode: null };
  child.on("exit", (code, signal) => (w.exitCode = code ?? (signal ? 128 : 0)));
  child.stderr!.on("data", (d) => (w.stderr += d));
  workers.push(w);
  return waitFor(`worker ${name} to start`, async () => (w.stderr.includes(`worker ${name} started`) ? w : w.exitCode !== null && Promise.reject(new Error(`worker ${name} exited: ${w.stderr}`))), 60_000);
}

let ledgerUrl: string;

beforeAll(async () => {
  // Under /var/tmp and traversable: as root, the `postgres` user must reach .runbook/pgdata.
  project = fs.mkdtempSync("/var/tmp/runbook-dbrestart-");
  fs.chmodSync(project, 0o755);
  // If this process is killed before its hooks run, stop the project's server and remove it.
  spawn(
    "sh",
    ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; pid=$(head -1 "$1/.runbook/pgdata/postmaster.pid" 2>/dev/null) && kill -INT "$pid"; sleep 3; rm -rf "$1"`, "watchdog", project],
    { detached: true, stdio: "ignore" },
  ).unref();
  ledgerUrl = await freshDatabaseUrl();
  ledger = new pg.Pool({ connectionString: ledgerUrl, max: 2 });
  await ledger.query(`CREATE TABLE ledger (
    id bigserial PRIMARY KEY, job text NOT NULL, step integer NOT NULL, part text NOT NULL,
    worker text NOT NULL, epoch bigint NOT NULL, started_at timestamptz NOT NULL,
    ended_at timestamptz, aborted boolean)`);
  // The first command creates and starts the project's embedded database.
  const pub = await cli(["publish", path.join(ROOT, FIXTURES)]);
  expect(pub.code, pub.stderr).toBe(0);
  await Promise.all([startWorker("r1"), startWorker("r2")]);
}, 240_000);

afterAll(async () => {
  for (const w of workers) {
    try {
      if (w.exitCode === null) process.kill(-w.child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const s of squatted) s.destroy();
  await new Promise((r) => (squatter ? squatter.close(r) : r(null)));
  await projectPool?.pool.end().catch(() => undefined);
  await ledger?.end().catch(() => undefined);
  if (project) {
    await cli(["db", "stop"]).catch(() => undefined);
    fs.rmSync(project, { recursive: true, force: true });
  }
});

/** Queues `count` steps jobs on the project's database; returns their ids. */
async function enqueue(prefix: string, count: number): Promise<string[]> {
  const [{ version }] = await q<{ version: string }>("SELECT version FROM runbooks WHERE name = 'steps'");
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await insertJobs(projectPool!.pool, ids.map((id) => ({ id, runbook: "steps", version, params: { n: STEPS, ms: 250 } })), "test");
  return ids;
}

async function ledgerRows(ids: string[]): Promise<LedgerRow[]> {
  const { rows } = await ledger.query<LedgerRow>(
    "SELECT id::int, job, step, part, worker, epoch::int, started_at, ended_at, aborted FROM ledger WHERE job = ANY($1) ORDER BY id",
    [ids],
  );
  return rows;
}

/** Lines of a log that match. */
function lines(log: string, re: RegExp): string[] {
  return log.split("\n").filter((l) => re.test(l));
}

/**
 * The whole scenario: jobs running on both workers, `runbook db stop`, then `runbook workers`
 * starts the database again: at once, or after an outage past the lease (both workers said so),
 * during which `beforeRestart` runs. Returns what was measured.
 */
async function restartUnderWorkers(prefix: string, outage: { pastLease: boolean; beforeRestart?: (oldPort: number) => Promise<void> }) {
  const ids = await enqueue(prefix, JOBS);
  const oldPort = localStatus(project).running!.port;
  // Both workers in the middle of jobs.
  await waitFor("both workers running steps", async () => {
    const { rows } = await ledger.query<{ worker: string }>("SELECT DISTINCT worker FROM ledger WHERE job = ANY($1)", [ids]);
    return rows.length === 2;
  }, 60_000);
  // The log from here on is this outage's.
  const logFrom = workers.map((w) => w.stderr.length);
  const since = (w: WorkerProc) => w.stderr.slice(logFrom[workers.indexOf(w)]);

  // Hold every step where it is (the ledger's writes wait for this lock) until the database
  // has stopped: however slowly `runbook db stop` starts, jobs are still running when it lands.
  const gate = await ledger.connect();
  let stop: Ran;
  try {
    await gate.query("BEGIN");
    await gate.query("LOCK TABLE ledger IN SHARE MODE");
    stop = await cli(["db", "stop"]);
  } finally {
    await gate.query("COMMIT").catch(() => undefined);
    gate.release();
  }
  expect(stop.code, stop.stderr).toBe(0);
  expect(stop.stdout).toMatch(/^stopped the embedded database/);
  const stoppedAt = Date.now();
  // Past the lease: each worker has said that it lost the database and, one interval (the
  // lease timeout) later, that it is still away.
  if (outage.pastLease) {
    for (const w of workers) await waitFor(`${w.name} to report the outage`, async () => /still cannot reach the database/.test(since(w)), TIMEOUT_MS + SLACK_MS);
  }
  await outage.beforeRestart?.(oldPort);

  // Any command starts the database again.
  const again = await cli(["workers"]);
  expect(again.code, again.stderr).toBe(0);
  const backAt = Date.now();
  const outageMs = backAt - stoppedAt;
  const newPort = localStatus(project).running!.port;
  const [{ started }] = await q<{ started: Date }>("SELECT pg_postmaster_start_time() AS started");

  // Each worker heartbeats again, and the fleet claims and runs steps again, by itself.
  const resumedMs: Record<string, number> = {};
  await waitFor("both workers to heartbeat again", async () => {
    const rows = await q<{ name: string; at: Date }>("SELECT name, heartbeat_at AS at FROM workers WHERE name IN ('r1', 'r2') AND heartbeat_at > $1", [started]);
    for (const r of rows) resumedMs[r.name] ??= Date.now() - started.getTime();
    return rows.length === 2;
  }, TIMEOUT_MS + SLACK_MS, 20);
  // `runbook workers` shows them alive again (it showed them dead for as long as they were away).
  const shown = await cli(["workers"]);
  expect(shown.stdout).toMatch(/^r1\s+alive\s/m);
  expect(shown.stdout).toMatch(/^r2\s+alive\s/m);
  const firstStep = await waitFor("a step to start after the restart", async () => {
    const { rows } = await ledger.query<{ at: Date }>("SELECT min(started_at) AS at FROM ledger WHERE job = ANY($1) AND started_at > $2", [ids, started]);
    return rows[0].at;
  }, TIMEOUT_MS + SLACK_MS, 20);
  const stepMs = firstStep.getTime() - started.getTime();

  await waitFor(`${JOBS} jobs to complete`, async () => {
    const [{ n }] = await q<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = 'completed'", [ids]);
    return n === JOBS;
  }, 180_000, 200);
  await checkExactlyOnce(ids);
  for (const w of workers) {
    expect(w.exitCode, w.stderr).toBeNull();
    checkLog(since(w), outageMs, outage.pastLease);
  }
  return { oldPort, newPort, outageMs, resumedMs, stepMs };
}

/** Every job completed once, wrote each output once and in order, and redid no checkpointed work. */
async function checkExactlyOnce(ids: string[]): Promise<void> {
  // A completion is in the job row, not in job_history (migration 0008); completing twice would
  // mean leaving `completed` in between, which job_history would show (and the database refuses).
  const completions = await q<{ job_id: string }>("SELECT id AS job_id FROM jobs WHERE id = ANY($1) AND status = 'completed'", [ids]);
  expect(completions).toHaveLength(ids.length);
  const outOfEnd = await q("SELECT job_id FROM job_history WHERE job_id = ANY($1) AND from_status IN ('completed', 'failed', 'stopped')", [ids]);
  expect(outOfEnd).toEqual([]);
  const outputs = await q<{ job_id: string; values: string[] }>(
    "SELECT job_id, array_agg(value #>> '{}' ORDER BY seq) AS values FROM job_streams WHERE job_id = ANY($1) AND stream = 'output' GROUP BY job_id",
    [ids],
  );
  const want = Array.from({ length: STEPS }, (_, i) => `step ${i + 1}`);
  expect(outputs.filter((r) => JSON.stringify(r.values) !== JSON.stringify(want))).toEqual([]);
  expect(outputs).toHaveLength(ids.length);
  const results = await q<{ id: string; result: unknown }>("SELECT id, result FROM jobs WHERE id = ANY($1)", [ids]);
  expect(results.filter((r) => r.result !== STEPS)).toEqual([]);
  const ends = await q<{ job_id: string; at: Date }>("SELECT id AS job_id, finished_at AS at FROM jobs WHERE id = ANY($1) AND status = 'completed'", [ids]);

  const rows = await ledgerRows(ids);
  // Every step done (a step whose checkpoint did not commit is done again: at least once).
  for (const id of ids) {
    const done = finishedCounts(rows.filter((r) => r.job === id));
    expect([...done.keys()].sort((a, b) => a - b), id).toEqual(want.map((_, i) => i + 1));
  }
  // Work before a committed checkpoint never redone; never one job on two leases at once.
  expect(badResumes(rows)).toEqual([]);
  expect(overlaps(rows)).toEqual([]);
  // Nothing ran for a job after it completed.
  const finished = new Map(ends.map((r) => [r.job_id, r.at.getTime()]));
  expect(rows.filter((r) => r.started_at.getTime() > finished.get(r.job)!)).toEqual([]);
}

/**
 * A worker's log over one outage: one line when it lost the database, at most one per lease
 * timeout while it was away, one when it was back; no stack trace and no line per failed part.
 */
function checkLog(log: string, outageMs: number, pastLease: boolean): void {
  const lost = lines(log, /Z cannot reach the database at 127\.0\.0\.1:\d+ \(/).length;
  // A restart at once may come back between two heartbeats of a worker: then it saw nothing.
  if (pastLease) expect(lost, log).toBe(1);
  else expect(lost, log).toBeLessThanOrEqual(1);
  expect(lines(log, /the database at 127\.0\.0\.1:\d+ is reachable again after/).length, log).toBe(lost);
  // At most one line per interval (the lease timeout), +1 for rounding.
  expect(lines(log, /still cannot reach the database/).length, log).toBeLessThanOrEqual(Math.ceil(outageMs / TIMEOUT_MS) + 1);
  expect(lines(log, /^\s+at |claim failed|heartbeat failed|LISTEN failed|lost the lease of job|^\S+ job |Error:/), log).toEqual([]);
}

function report(what: string, m: Awaited<ReturnType<typeof restartUnderWorkers>>): void {
  console.log(`${what}: outage ${m.outageMs} ms; heartbeats back ${JSON.stringify(m.resumedMs)} ms and first step ${m.stepMs} ms after the server started (lease ${TIMEOUT_MS} ms)`);
}

it("`runbook db stop` under running workers, then any command at once: the workers go on by themselves", async () => {
  const m = await restartUnderWorkers("quick", { pastLease: false });
  expect(m.newPort).toBe(m.oldPort);
  report(`db restart at once on the same port ${m.newPort}`, m);
  for (const ms of Object.values(m.resumedMs)) expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
}, 400_000);

it("`runbook db stop` under running workers, an outage past the lease, then any command: the database comes back on its port and the workers resume by themselves", async () => {
  const m = await restartUnderWorkers("same", { pastLease: true });
  expect(m.newPort).toBe(m.oldPort);
  report(`db restart on the same port ${m.newPort}`, m);
  for (const ms of Object.values(m.resumedMs)) expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
}, 400_000);

it("the old port taken meanwhile: the database comes back on a new port and the workers find it there", async () => {
  const m = await restartUnderWorkers("moved", {
    pastLease: true,
    beforeRestart: async (oldPort) => {
      // Something else listens on the old port and never answers: the workers' attempts there hang.
      squatter = net.createServer((s) => squatted.add(s));
      await waitFor(`port ${oldPort} to be taken`, () => new Promise<boolean>((resolve) => {
        squatter!.once("error", () => resolve(false));
        squatter!.listen(oldPort, "127.0.0.1", () => resolve(true));
      }), 30_000, 200);
    },
  });
  expect(m.newPort).not.toBe(m.oldPort);
  expect(localStatus(project).port).toBe(m.newPort);
  expect((await cli(["db", "status"])).stdout).toContain(`127.0.0.1:${m.newPort}`);
  // sql()'s default connection (the sandbox on this cluster) followed it to the new port.
  const [stored] = await q<{ secret: boolean; url: string | null }>("SELECT secret, value #>> '{}' AS url FROM assets WHERE name = 'sql.default'");
  if (!stored.secret) expect(new URL(stored.url!).port).toBe(String(m.newPort));
  report(`db restart on a new port ${m.newPort} (old ${m.oldPort} taken)`, m);
  for (const ms of Object.values(m.resumedMs)) expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
}, 400_000);
