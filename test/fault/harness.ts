// The fault tests' cluster: one fresh database on the test server, the fixtures published, and
// real `runbook worker` processes started, signalled and killed the way an operator (or a crash)
// does. Jobs are held where a test wants them by gates (fixtures/ledger.ts), never by hoping a
// step is still running when the test acts; waits are on conditions, with generous deadlines.
// Every worker runs in its own process group; `destroy()` (and a process exit hook, for a
// test run that dies) kills every group that is left, so no worker outlives its test.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import type { Json } from "../../runtime/abi.js";
import { openDb, type Db } from "../../runtime/db/connect.js";
import { assignSlots } from "../../runtime/slots.js";
import { insertJobs } from "../../runtime/sql/enqueue.js";
import { jobHistory } from "../../runtime/sql/inspect.js";
import { storeDefaultConnection } from "../../runtime/db/sql-sandbox.js";
import { freshDatabaseUrl, freshSandboxUrl } from "../setup/db.js";
import { BIN, ROOT, runbook, type Ran } from "../runtime/process.js";

export const FIXTURES = path.join("test", "fault", "fixtures");

/** Short settings so a dead worker is noticed in seconds (heartbeat 0.5 s, timeout 3 s). */
export const HEARTBEAT_MS = 500;
export const TIMEOUT_MS = 3_000;
/**
 * The lease timeout of clusters where no lease is meant to expire (unless a test kills a
 * worker): a busy machine can hold up a live worker's heartbeat for 3 s (seen: a worker lost the
 * lease of its own running job, under a load average of 20 on two cores), never for 10.
 */
export const LONG_TIMEOUT_MS = 10_000;

export interface LedgerRow {
  id: number;
  job: string;
  step: number;
  part: string;
  worker: string;
  epoch: number;
  started_at: Date;
  ended_at: Date | null;
  aborted: boolean | null;
  /** When a `stubborn` step saw the job's abort signal (it goes on regardless). */
  abort_seen_at: Date | null;
}

export interface WorkerProc {
  name: string;
  child: ChildProcess;
  stderr: string;
  /** Resolves with the exit code (or 128 + signal number) when the process has exited. */
  exited: Promise<number>;
  exitCode: number | null;
}

/**
 * The worker processes still running, killed when the test process exits. The fault files run
 * one after another in one process, each importing this module afresh: the set is kept on
 * globalThis and its exit handler installed with it, so that process gets one handler, not one
 * per file (Node warns past ten).
 */
const LIVE = Symbol.for("runbook.test.fault.live");
const registry = globalThis as { [LIVE]?: Set<ChildProcess> };
const live = (registry[LIVE] ??= liveSet());
function liveSet(): Set<ChildProcess> {
  const set = new Set<ChildProcess>();
  process.once("exit", () => {
    for (const c of set) killGroup(c);
  });
  return set;
}
function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };

export class Cluster {
  readonly workers = new Map<string, WorkerProc>();
  private constructor(
    readonly url: string,
    readonly db: Db,
    /** Where the runbooks' `sql()` runs (their `sql.default`). */
    readonly sqlUrl: string,
    /** The workers' lease timeout (RUNBOOK_TIMEOUT_MS). */
    readonly timeoutMs: number,
  ) {}

  /** A fresh database with the ledger table, and `paths` published (default: the fixtures). */
  static async create(paths: string[] = [FIXTURES], settings: { timeoutMs?: number } = {}): Promise<Cluster> {
    const url = await freshDatabaseUrl();
    const db = await openDb({ url, max: 4 });
    await db.pool.query(`CREATE TABLE ledger (
      id bigserial PRIMARY KEY, job text NOT NULL, step integer NOT NULL, part text NOT NULL,
      worker text NOT NULL, epoch bigint NOT NULL, started_at timestamptz NOT NULL,
      ended_at timestamptz, aborted boolean, abort_seen_at timestamptz)`);
    await db.pool.query("CREATE TABLE gates (name text PRIMARY KEY, open boolean NOT NULL DEFAULT false, arrivals integer NOT NULL DEFAULT 0)");
    const sqlUrl = await freshSandboxUrl();
    await storeDefaultConnection((text, params) => db.pool.query(text, params), sqlUrl);
    const c = new Cluster(url, db, sqlUrl, settings.timeoutMs ?? TIMEOUT_MS);
    const pub = await c.cli(["publish", ...paths]);
    if (pub.code !== 0) throw new Error(`publish failed: ${pub.stderr}`);
    return c;
  }

  get env(): Record<string, string> {
    return {
      DATABASE_URL: this.url,
      RUNBOOK_HEARTBEAT_MS: String(HEARTBEAT_MS),
      RUNBOOK_TIMEOUT_MS: String(this.timeoutMs),
      RUNBOOK_POLL_MS: "500",
    };
  }

  /** `runbook ARGS` against this cluster's database. */
  cli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
    return runbook(args, { cwd: ROOT, env: { ...this.env, ...env } });
  }

  /** Starts `runbook worker --name NAME` and resolves once it has registered and started. */
  async startWorker(name: string, opts: { concurrency?: number; env?: Record<string, string>; group?: string } = {}): Promise<WorkerProc> {
    const group = opts.group ? ["--group", opts.group] : [];
    const child = spawn(process.execPath, [BIN, "worker", "--name", name, "--concurrency", String(opts.concurrency ?? 10), ...group], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, ...opts.env },
      stdio: ["ignore", "ignore", "pipe"],
      detached: true, // its own process group: killed as a whole
    });
    live.add(child);
    // Should this test process die without its hooks (SIGKILL), a watchdog kills the worker's
    // group once the test process is gone.
    spawn("sh", ["-c", `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill -9 -${child.pid} 2>/dev/null`], {
      detached: true,
      stdio: "ignore",
    }).unref();
    const w: WorkerProc = { name, child, stderr: "", exitCode: null, exited: null as unknown as Promise<number> };
    w.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        live.delete(child);
        w.exitCode = code ?? 128 + (SIGNALS[signal ?? ""] ?? 0);
        resolve(w.exitCode);
      }),
    );
    child.stderr!.on("data", (d) => (w.stderr += d));
    this.workers.set(name, w);
    await waitFor(`worker ${name} to start`, async () => w.stderr.includes(`worker ${name} started`) || (w.exitCode !== null && Promise.reject(new Error(`worker ${name} exited ${w.exitCode}: ${w.stderr}`))), 30_000);
    return w;
  }

  /**
   * Waits until the latest deployment names every one of `names` and each worker has seen it
   * (a worker that started first computed its slots before the others joined; a heartbeat after
   * the deployment corrects them).
   */
  async settle(names: string[]): Promise<void> {
    await waitFor(`${names.join(", ")} deployed`, async () => {
      const { rows } = await this.db.pool.query<{ workers: string[] }>("SELECT workers FROM deployments ORDER BY generation DESC LIMIT 1");
      return names.every((n) => rows[0]?.workers.includes(n));
    });
    await this.synced(names);
  }

  /**
   * Waits until each of `names` has heartbeated twice since this call: every heartbeat reads the
   * deployment, the live workers and drain requests, so each worker has then acted on all that
   * was committed before (its slots recomputed, a drain begun). Twice: a heartbeat's row is
   * written before the worker acts on what it read; the next one starts after that.
   */
  async synced(names: string[]): Promise<void> {
    for (let round = 1; round <= 2; round++) {
      const { rows } = await this.db.pool.query<{ t: Date }>("SELECT clock_timestamp() AS t");
      await waitFor(`heartbeat ${round} of ${names.join(", ")}`, async () => {
        const r = await this.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM workers WHERE name = ANY($1) AND heartbeat_at > $2", [names, rows[0].t]);
        return r.rows[0].n === names.length;
      });
    }
  }

  /** Closes gates (fixtures/ledger.ts): steps that reach them wait until they open. */
  async closeGates(names: string[]): Promise<void> {
    await this.db.pool.query("INSERT INTO gates (name) SELECT unnest($1::text[])", [names]);
  }

  async openGates(names: string[]): Promise<void> {
    const { rowCount } = await this.db.pool.query("UPDATE gates SET open = true WHERE name = ANY($1)", [names]);
    if (rowCount !== names.length) throw new Error(`no gate among ${names.join(", ")}`);
  }

  /** Waits until `count` calls (default 1) have arrived at each gate. */
  async reached(names: string[], count = 1, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${count} arrival(s) at ${names.length > 3 ? `${names.length} gates` : names.join(", ")}`, async () => {
      const { rows } = await this.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM gates WHERE name = ANY($1) AND arrivals >= $2", [names, count]);
      return rows[0].n === names.length;
    }, timeoutMs, 100);
  }

  /** Waits until the worker's stderr matches `pattern`. */
  async said(name: string, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const w = this.worker(name);
    await waitFor(`${name} to say ${pattern}`, async () => pattern.test(w.stderr), timeoutMs);
  }

  /** Sends a signal to a worker's process group. */
  signal(name: string, signal: NodeJS.Signals): void {
    killGroup(this.worker(name).child, signal);
  }

  worker(name: string): WorkerProc {
    const w = this.workers.get(name);
    if (!w) throw new Error(`no worker ${name}`);
    return w;
  }

  /** kill -9, resolving once the process is gone. Returns the time of the kill. */
  async crash(name: string): Promise<number> {
    const at = Date.now();
    this.signal(name, "SIGKILL");
    await this.worker(name).exited;
    return at;
  }

  /** Queues jobs (one statement, like `runbook start` many times); returns their ids. */
  async enqueue(runbook: string, params: Record<string, Json>, ids: string[] | number = 1): Promise<string[]> {
    const { rows } = await this.db.pool.query<{ version: string }>("SELECT version FROM runbooks WHERE name = $1", [runbook]);
    if (!rows[0]) throw new Error(`${runbook} is not published`);
    const list = typeof ids === "number" ? Array.from({ length: ids }, () => randomUUID()) : ids;
    await insertJobs(this.db.pool, list.map((id) => ({ id, runbook, version: rows[0].version, params })), "test");
    return list;
  }

  /** `count` fresh job ids whose slots `owner` owns when `workers` share the slots. */
  async idsOwnedBy(owner: string, workers: string[], count: number, prefix = "job"): Promise<string[]> {
    const owners = assignSlots(this.db.slotCount, workers);
    const out: string[] = [];
    for (let i = 0; out.length < count; i++) {
      const batch = Array.from({ length: 64 }, (_, k) => `${prefix}-${i * 64 + k}-${randomUUID().slice(0, 8)}`);
      const { rows } = await this.db.pool.query<{ id: string; slot: number }>("SELECT id, runbook_slot(id) AS slot FROM unnest($1::text[]) AS id", [batch]);
      for (const r of rows) if (owners[r.slot] === owner && out.length < count) out.push(r.id);
    }
    return out;
  }

  async ledger(job?: string): Promise<LedgerRow[]> {
    const { rows } = await this.db.pool.query<LedgerRow>(
      `SELECT id::int, job, step, part, worker, epoch::int, started_at, ended_at, aborted, abort_seen_at FROM ledger ${job ? "WHERE job = $1" : ""} ORDER BY id`,
      job ? [job] : [],
    );
    return rows;
  }

  async status(ids: string[]): Promise<Map<string, string>> {
    const { rows } = await this.db.pool.query<{ id: string; status: string }>("SELECT id, status FROM jobs WHERE id = ANY($1)", [ids]);
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /** Waits until every job is in `status`. */
  async waitAll(ids: string[], status: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${ids.length} jobs to be ${status}`, async () => {
      const { rows } = await this.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = $2", [ids, status]);
      return rows[0].n === ids.length;
    }, timeoutMs);
  }

  async outputs(job: string): Promise<Json[]> {
    const { rows } = await this.db.pool.query<{ value: Json }>("SELECT value FROM job_streams WHERE job_id = $1 AND stream = 'output' ORDER BY seq", [job]);
    return rows.map((r) => r.value);
  }

  async history(job: string): Promise<{ at: Date; from_status: string | null; to_status: string; worker: string | null; reason: string }[]> {
    // As `runbook job` shows it: first claims and completions live in the job row (migration 0008).
    return jobHistory(this.db.pool, job);
  }

  /** Kills every worker still running (process groups), then closes the database. */
  async destroy(): Promise<void> {
    for (const w of this.workers.values()) {
      if (w.exitCode === null) {
        killGroup(w.child, "SIGCONT");
        killGroup(w.child);
      }
    }
    await Promise.all([...this.workers.values()].map((w) => Promise.race([w.exited, new Promise((r) => setTimeout(r, 5_000))])));
    await this.db.close().catch(() => undefined);
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Steps (1..n) that appear in `rows` as finished, non-aborted calls, with their counts. */
export function finishedCounts(rows: LedgerRow[], part = ""): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of rows) if (r.part === part && r.ended_at && !r.aborted) m.set(r.step, (m.get(r.step) ?? 0) + 1);
  return m;
}

/**
 * Pairs of ledger rows of one job, from different leases (worker/epoch), whose [start, end]
 * intervals overlap: the job ran on two workers at once. An unfinished row counts as running
 * to the end of time.
 */
export function overlaps(rows: LedgerRow[]): [LedgerRow, LedgerRow][] {
  const out: [LedgerRow, LedgerRow][] = [];
  const byJob = new Map<string, LedgerRow[]>();
  for (const r of rows) byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
  for (const list of byJob.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (a.epoch === b.epoch && a.worker === b.worker) continue;
        const aEnd = a.ended_at?.getTime() ?? Infinity;
        const bEnd = b.ended_at?.getTime() ?? Infinity;
        if (a.started_at.getTime() < bEnd && b.started_at.getTime() < aEnd) out.push([a, b]);
      }
    }
  }
  return out;
}

/**
 * Where each lease of a job took over from the previous one, for `steps`-like jobs (one call
 * and a checkpoint per step): a step starts only once the previous step's checkpoint has
 * committed, so the next lease must begin at the last step the previous one started (its
 * checkpoint did not commit: redone, at least once) or the step after (it did). Anything
 * earlier redoes work before a committed checkpoint; anything later skips work. Returns the
 * takeovers that break this.
 */
export function badResumes(rows: LedgerRow[]): string[] {
  const bad: string[] = [];
  const byJob = new Map<string, LedgerRow[]>();
  for (const r of rows) byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
  for (const [job, list] of byJob) {
    list.sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const next = list[i];
      if (prev.epoch === next.epoch) continue;
      if (next.step !== prev.step && next.step !== prev.step + 1) bad.push(`${job}: epoch ${next.epoch} began at step ${next.step} after epoch ${prev.epoch} started step ${prev.step}`);
    }
  }
  return bad;
}
