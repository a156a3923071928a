// Side by side with our peers on one PostgreSQL server (`npm run bench -- peers`, or
// `npx tsx bench/peers.ts --rounds 3`): graphile-worker 0.18 with its throughput preset
// ("graphile batched", the peer we must beat) and its defaults, and DBOS Transact 5.3. Each run of
// a workload gets a fresh database; rounds are interleaved (the order of the systems rotates) and
// every figure is the median of the rounds, with the spread and the load average beside it.
//
// Workloads (bench/peers/workloads.ts), every worker at concurrency 10:
//   noop         --jobs (20,000) queued jobs that do nothing: jobs/s from worker start to the last done
//   checkpoint1  --checkpoint-jobs (10,000) jobs with one 2 KB checkpoint each
//   steps10      --steps-jobs (2,000) jobs with ten 2 KB checkpoints each
//   latency      --latency (500) jobs started one after another: enqueue -> first line run, p50/p99
//   backlog      --backlog (200,000) queued: jobs/s over the first and the last 20 s (ours and graphile batched)
//   failover     ours only: kill -9 of a worker holding 5 running jobs -> all 5 resumed on the other
//   floor        ours only: a fenced checkpoint of 100 B, 2 KB and 64 KB against a raw fenced
//                UPDATE of the same payload through pg (the physical floor), median per write
// Exactly once: after every run of ours, a job that completed twice (history leaving `completed`)
// or was claimed twice is counted and reported; any makes the benchmark exit 1.
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { DBOSClient } from "@dbos-inc/dbos-sdk";
import { makeWorkerUtils } from "graphile-worker";
import pg from "pg";
import { openDb, type Db } from "../runtime/db/connect.js";
import { bundleProject, publishBundles } from "../runtime/publish.js";
import { assignSlots } from "../runtime/slots.js";
import { claimJobs } from "../runtime/sql/claim.js";
import { writeCheckpoint } from "../runtime/sql/checkpoint.js";
import { checkpointHistogram } from "../runtime/sql/metrics.js";
import { CHECKPOINT_BUCKETS_MS } from "../runtime/worker-metrics.js";
import { insertJobs } from "../runtime/sql/enqueue.js";
import { parentOf, processCpuMs, serverCpuMs } from "./cpu.js";
import { withBenchServer, type BenchServer } from "./db.js";
import { checkpointsOf, READY, STATE_2K, wallClockMs, type Workload } from "./peers/workloads.js";
import { percentile, report, summary } from "./report.js";
import { kill, loadAverage, module, profileArgs, sleep, startWorker, until, type Proc } from "./workers.js";
import { spawn } from "node:child_process";
import { option } from "./options.js";

const ROUNDS = option("rounds", 3);
const SIZE: Record<Exclude<Workload, "latency">, number> = {
  noop: option("jobs", 20_000),
  checkpoint1: option("checkpoint-jobs", 10_000),
  steps10: option("steps-jobs", 2_000),
  backlog: option("backlog", 200_000),
};
const LATENCY_JOBS = option("latency", 500);
const WINDOW_S = option("window", 20);
const HEARTBEAT_MS = 500;
const TIMEOUT_MS = 3_000;
const HERE = path.dirname(fileURLToPath(import.meta.url));

type System = "ours" | "graphile batched" | "graphile default" | "dbos";
/**
 * While iterating on one part: `--only noop,backlog` runs only these workloads (names as in the
 * list above, plus `floor`), `--systems ours,graphile` only systems whose name starts so. The
 * report then says which ran; `npm run bench -- peers` runs everything.
 */
const ONLY = listOption("only");
const SYSTEMS = listOption("systems");
const runs = (w: string) => ONLY === null || ONLY.includes(w);
const picked = <S extends System>(xs: readonly S[]): S[] => xs.filter((s) => SYSTEMS === null || SYSTEMS.some((p) => s.startsWith(p)));
const THROUGHPUT_SYSTEMS: System[] = picked(["ours", "graphile batched", "graphile default", "dbos"]);

function listOption(name: string): string[] | null {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : process.env[`BENCH_${name.toUpperCase()}`];
  return v ? v.split(",").map((x) => x.trim()) : null;
}

// ---------------------------------------------------------------------------------------------
// Ours: hand-written compiled runbooks on real `runbook worker` processes.

const BLOB = JSON.stringify(STATE_2K);
const OURS = {
  noop: module("peer_noop", `return { kind: "return", value: null };`),
  backlog: module("peer_backlog", `return { kind: "return", value: null };`),
  checkpoint1: module("peer_checkpoint1", `if (frame.pc === 0) { L.state = ${BLOB}; frame.pc = 1; return { kind: "checkpoint", label: "one" }; } return { kind: "return", value: null };`),
  steps10: module("peer_steps10", `if (frame.pc < 10) { L.state = ${BLOB}; L.step = frame.pc; frame.pc++; return { kind: "checkpoint", label: "step" }; } return { kind: "return", value: null };`),
  // The job reads the wall clock as wallClockMs() does (this module is generated text).
  latency: module("peer_latency", `ctx.emit("output", performance.timeOrigin + performance.now()); return { kind: "return", value: null };`),
  failover: module("peer_failover", `if (frame.pc === 0) { frame.pc = 1; return { kind: "checkpoint", label: "held" }; }
    if (process.env.BENCH_VICTIM === "1") await new Promise((r) => setTimeout(r, 600_000));
    return { kind: "return", value: null };`),
};
type OursName = keyof typeof OURS;

async function oursDb(url: string): Promise<{ db: Db; versions: Map<string, string> }> {
  const db = await openDb({ url, max: 4 });
  const published = await publishBundles(db, await bundleProject(Object.values(OURS)));
  return { db, versions: new Map(published.map((p) => [p.runbook, p.hash])) };
}

async function enqueueOurs(db: Db, version: string, runbook: string, n: number, params: (i: number) => Record<string, number> = () => ({})): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 5_000) {
    const batch = Array.from({ length: Math.min(5_000, n - i) }, (_, k) => ({ id: randomUUID(), runbook, version, params: params(i + k) }));
    await insertJobs(db.pool, batch, "bench");
    ids.push(...batch.map((b) => b.id));
  }
  return ids;
}

async function oursWorker(url: string, name: string, env: Record<string, string> = {}): Promise<Proc> {
  return startWorker(url, name, { RUNBOOK_HEARTBEAT_MS: String(HEARTBEAT_MS), RUNBOOK_TIMEOUT_MS: String(TIMEOUT_MS), ...env }, ["--concurrency", "10"]);
}

/** Jobs that completed twice or were claimed twice (no fault is injected in these runs). */
async function oursDuplicates(db: Db): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(DISTINCT job_id)::int AS n FROM (
       SELECT job_id FROM job_history WHERE from_status IN ('completed', 'failed', 'stopped')
       UNION ALL
       -- Every claim bumps the lease epoch (a first claim writes no history row: migration 0008).
       SELECT id FROM jobs WHERE lease_epoch > 1
     ) x`,
  );
  return rows[0].n;
}

let duplicates = 0;

// ---------------------------------------------------------------------------------------------
// The peers: each in its own process (bench/peers/*-worker.ts), as ours is.

async function peerWorker(script: string, url: string, mode: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, [...profileArgs("peer"), "--import", "tsx", path.join(HERE, "peers", script), ...mode], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const p: Proc = { child, stderr: "", exited: new Promise((r) => child.on("exit", () => r())) };
  child.stderr!.on("data", (d) => (p.stderr += d));
  await until(`${script} to be ready`, async () => p.stderr.includes(READY) || (child.exitCode !== null && Promise.reject(new Error(`${script} exited: ${p.stderr}`))), 120_000);
  return p;
}

async function graphileSetup(url: string, identifier: string, n: number): Promise<void> {
  const utils = await makeWorkerUtils({ connectionString: url });
  try {
    await utils.migrate();
    await utils.withPgClient(async (c) => {
      await c.query("CREATE TABLE IF NOT EXISTS bench_state (id int PRIMARY KEY, state text, step int)");
      await c.query("CREATE TABLE IF NOT EXISTS bench_started (id int PRIMARY KEY, at_ms float8 NOT NULL)");
      await c.query("INSERT INTO bench_state (id, state, step) SELECT i, '', 0 FROM generate_series(1, $1) i", [n]);
    });
    for (let i = 0; i < n; i += 5_000) {
      await utils.addJobs(Array.from({ length: Math.min(5_000, n - i) }, (_, k) => ({ identifier, payload: { id: i + k + 1 } })));
    }
  } finally {
    await utils.release();
  }
}

async function dbosSetup(url: string, workflow: string, n: number): Promise<void> {
  // A first launch creates DBOS's system tables and the queue; then the jobs are queued with the
  // worker stopped, as for every system.
  await kill(await peerWorker("dbos-worker.ts", url), "SIGTERM");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("CREATE TABLE IF NOT EXISTS bench_started (id int PRIMARY KEY, at_ms float8 NOT NULL)");
  await c.end();
  if (n === 0) return;
  const client = await DBOSClient.create({ systemDatabaseUrl: url });
  try {
    for (let i = 0; i < n; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => client.enqueue({ queueName: "bench", workflowName: workflow })));
    }
  } finally {
    await client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Throughput: the queue filled first, then the worker started; time from its ready line to the
// last job done, read by polling the database.

interface Counter { done(): Promise<number>; close(): Promise<void>; serverCpuMs(): number }

async function counter(url: string, sql: string): Promise<Counter> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const postmaster = parentOf(rows[0].pid);
  return { done: async () => Number((await c.query(sql)).rows[0].n), close: () => c.end(), serverCpuMs: () => serverCpuMs(postmaster) };
}

/** Fills the queue for `system` and starts its worker; returns the worker and how to count done jobs. */
async function prepare(server: BenchServer, system: System, w: Exclude<Workload, "latency">, n: number): Promise<{ url: string; start(): Promise<Proc>; counter: Counter; after(): Promise<void> }> {
  const url = await server.createDatabase(`peers_${system.split(" ")[0]}`);
  switch (system) {
    case "ours": {
      const { db, versions } = await oursDb(url);
      await enqueueOurs(db, versions.get(OURS[w].name)!, OURS[w].name, n);
      await db.pool.query("VACUUM ANALYZE jobs");
      return {
        url,
        start: () => oursWorker(url, `ours-${w}`),
        // Jobs left, as for graphile below: a poll every 20 ms that counted the completed ones
        // scanned the whole growing table each time, costing the server about 0.045 ms per job
        // (bench/cpu.ts) on top of our own work. jobs_claimable holds only the unfinished ones.
        counter: await counter(url, `SELECT ${n} - count(*) AS n FROM jobs WHERE due_at IS NOT NULL`),
        after: async () => {
          duplicates += await oursDuplicates(db);
          // A job that ended otherwise (failed) also leaves the claimable rows: it must not count.
          const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE status <> 'completed'");
          // What a checkpoint write took the job (the worker's own histogram, written at its
          // stop): the worker batches the checkpoints of concurrent jobs (runtime/batcher.ts).
          const h = await checkpointHistogram(db.pool, CHECKPOINT_BUCKETS_MS.length + 1);
          if (h.count > 0) {
            const at = (q: number) => {
              let sum = 0;
              const i = h.counts.findIndex((c) => (sum += c) >= q * h.count);
              return i < CHECKPOINT_BUCKETS_MS.length ? `<= ${CHECKPOINT_BUCKETS_MS[i]} ms` : "> 10 s";
            };
            console.log(`    ours ${w}: ${h.count} checkpoint writes, mean ${(h.sumMs / h.count).toFixed(2)} ms, p50 ${at(0.5)}, p99 ${at(0.99)}`);
          }
          await db.close();
          if (rows[0].n > 0) throw new Error(`${rows[0].n} of ours' ${w} jobs did not complete`);
        },
      };
    }
    case "graphile batched":
    case "graphile default": {
      await graphileSetup(url, w, n);
      return {
        url,
        start: () => peerWorker("graphile-worker.ts", url, [system === "graphile batched" ? "batched" : "default"]),
        counter: await counter(url, `SELECT ${n} - count(*) AS n FROM graphile_worker._private_jobs`),
        after: async () => undefined,
      };
    }
    case "dbos": {
      await dbosSetup(url, w, n);
      return {
        url,
        start: () => peerWorker("dbos-worker.ts", url),
        counter: await counter(url, "SELECT count(*) AS n FROM dbos.workflow_status WHERE status = 'SUCCESS'"),
        after: async () => undefined,
      };
    }
  }
}

/** jobs/s draining a full queue; for the backlog, jobs/s over the first and the last window. */
async function drain(server: BenchServer, system: System, w: Exclude<Workload, "latency">): Promise<{ rate: number; first?: number; last?: number; cpu: string }> {
  const n = SIZE[w];
  const run = await prepare(server, system, w, n);
  const samples: { t: number; done: number }[] = [];
  let proc: Proc | undefined;
  let cpu = "";
  try {
    proc = await run.start();
    const pid = proc.child.pid!;
    const t0 = performance.now();
    const [worker0, server0] = [processCpuMs(pid), run.counter.serverCpuMs()];
    samples.push({ t: 0, done: await run.counter.done() });
    await until(`${system} ${w} to finish`, async () => {
      const done = await run.counter.done();
      samples.push({ t: (performance.now() - t0) / 1000, done });
      return done >= n;
      // Every 50 ms: each poll is a count on the server the workers share (at 20 ms the polls
      // alone cost the server as much CPU per no-op job as our claim did).
    }, 1_800_000, w === "backlog" ? 250 : 50);
    // Per job: the worker process's CPU, and the server's (with this bench's own polling).
    cpu = `CPU per job: worker ${((processCpuMs(pid) - worker0) / n).toFixed(3)} ms, server ${((run.counter.serverCpuMs() - server0) / n).toFixed(3)} ms`;
  } finally {
    // Ours stops as an operator stops it (SIGTERM: every job is done, so it exits at once), which
    // writes its checkpoint histogram; the peers' processes are killed.
    if (proc) await kill(proc, system === "ours" || process.env.RB_WORKER_PROF ? "SIGTERM" : "SIGKILL");
    await run.counter.close();
    await run.after();
    await server.dropDatabase(run.url);
  }
  const end = samples[samples.length - 1];
  const rate = n / end.t;
  if (w !== "backlog") return { rate, cpu };
  const at = (t: number) => samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));
  const a = at(Math.min(WINDOW_S, end.t));
  const b = at(Math.max(0, end.t - WINDOW_S));
  return { rate, first: a.done / a.t, last: (end.done - b.done) / (end.t - b.t), cpu };
}

// ---------------------------------------------------------------------------------------------
// Latency: jobs started one at a time on an idle worker; enqueue (client clock) -> the job's
// first line (the worker's clock: the same machine).

async function latency(server: BenchServer, system: Exclude<System, "graphile default">): Promise<number[]> {
  const url = await server.createDatabase(`peers_lat_${system.split(" ")[0]}`);
  const out: number[] = [];
  let proc: Proc | undefined;
  try {
    if (system === "ours") {
      const { db, versions } = await oursDb(url);
      proc = await oursWorker(url, "ours-latency");
      for (let i = 0; i < LATENCY_JOBS; i++) {
        const t = wallClockMs();
        const [id] = await enqueueOurs(db, versions.get("peer_latency")!, "peer_latency", 1);
        const started = await until("the job to run", async () => {
          const { rows } = await db.pool.query<{ v: number }>("SELECT (value #>> '{}')::float8 AS v FROM job_streams WHERE job_id = $1", [id]);
          return rows[0]?.v;
        }, 60_000, 2);
        out.push(started - t);
      }
      duplicates += await oursDuplicates(db);
      await db.close();
    } else {
      const graphile = system === "graphile batched";
      if (graphile) await graphileSetup(url, "latency", 0);
      else await dbosSetup(url, "latency", 0);
      proc = graphile ? await peerWorker("graphile-worker.ts", url, ["batched"]) : await peerWorker("dbos-worker.ts", url);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const utils = graphile ? await makeWorkerUtils({ connectionString: url }) : null;
      const client = graphile ? null : await DBOSClient.create({ systemDatabaseUrl: url });
      try {
        for (let i = 1; i <= LATENCY_JOBS; i++) {
          const t = wallClockMs();
          if (utils) await utils.addJob("latency", { id: i });
          else await client!.enqueue({ queueName: "bench", workflowName: "latency" }, i);
          const started = await until("the job to run", async () => (await c.query<{ at_ms: number }>("SELECT at_ms FROM bench_started WHERE id = $1", [i])).rows[0]?.at_ms, 60_000, 2);
          out.push(started - t);
        }
      } finally {
        await utils?.release();
        await client?.destroy();
        await c.end();
      }
    }
  } finally {
    if (proc) await kill(proc);
    await server.dropDatabase(url);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Failover (ours): 5 jobs held by one of two workers; kill -9 it; until all 5 resumed on the other.

async function failover(server: BenchServer): Promise<number> {
  const url = await server.createDatabase("peers_failover");
  const { db, versions } = await oursDb(url);
  const procs: Proc[] = [];
  try {
    const victim = await oursWorker(url, "victim", { BENCH_VICTIM: "1" });
    procs.push(victim, await oursWorker(url, "survivor"));
    await until("both workers in the deployment", async () => (await db.pool.query("SELECT workers FROM deployments ORDER BY generation DESC LIMIT 1")).rows[0]?.workers.length === 2);
    await sleep(3 * HEARTBEAT_MS);
    const owners = assignSlots(db.slotCount, ["survivor", "victim"]);
    const ids: string[] = [];
    while (ids.length < 5) {
      const batch = Array.from({ length: 32 }, () => randomUUID());
      const { rows } = await db.pool.query<{ id: string; slot: number }>("SELECT id, runbook_slot(id) AS slot FROM unnest($1::text[]) AS id", [batch]);
      for (const r of rows) if (owners[r.slot] === "victim" && ids.length < 5) ids.push(r.id);
    }
    await insertJobs(db.pool, ids.map((id) => ({ id, runbook: "peer_failover", version: versions.get("peer_failover")!, params: {} })), "bench");
    await until("the victim to hold all 5", async () => (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = 'running' AND worker = 'victim' AND checkpoints = 1", [ids])).rows[0].n === 5);
    await kill(victim);
    const killedAt: Date = (await db.pool.query("SELECT now() AS t")).rows[0].t;
    await until("all 5 resumed on the survivor", async () => (await db.pool.query<{ n: number }>("SELECT count(DISTINCT job_id)::int AS n FROM job_history WHERE job_id = ANY($1) AND worker = 'survivor' AND to_status = 'running'", [ids])).rows[0].n === 5, 120_000);
    const { rows } = await db.pool.query<{ ms: number }>("SELECT extract(epoch FROM max(at) - $2) * 1000 AS ms FROM job_history WHERE job_id = ANY($1) AND worker = 'survivor' AND to_status = 'running'", [ids, killedAt]);
    return Number(rows[0].ms);
  } finally {
    for (const p of procs) await kill(p);
    await db.close();
    await server.dropDatabase(url);
  }
}

// ---------------------------------------------------------------------------------------------
// The floor: our fenced checkpoint against a raw fenced UPDATE of the same payload, one connection.

async function floor(server: BenchServer, bytes: number): Promise<{ ours: number; raw: number }> {
  const url = await server.createDatabase("peers_floor");
  const { db, versions } = await oursDb(url);
  try {
    const [id] = await enqueueOurs(db, versions.get("peer_checkpoint1")!, "peer_checkpoint1", 1);
    const [claim] = await claimJobs(db.pool, "bench", Array.from({ length: db.slotCount }, (_, i) => i), 1, 3_600_000);
    // The raw table stores the payload in the column type our jobs.state has, so only the
    // protocol differs.
    const type = (await db.pool.query("SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'jobs'::regclass AND attname = 'state'")).rows[0].t;
    await db.pool.query(`CREATE TABLE bench_raw (id int PRIMARY KEY, epoch bigint NOT NULL, state ${type}) WITH (fillfactor = 70)`);
    await db.pool.query("INSERT INTO bench_raw VALUES (1, 1, NULL)");
    const locals = { blob: "x".repeat(Math.max(0, bytes - 60)), n: 0 };
    const state = { frames: [{ runbook: "peer_checkpoint1", pc: 1, locals }], seq: 0 };
    const client = await db.pool.connect();
    const q = { query: client.query.bind(client) } as unknown as pg.Pool;
    const raw: number[] = [];
    const ours: number[] = [];
    try {
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 100; i++) {
          locals.n++;
          const t = performance.now();
          await client.query("UPDATE bench_raw SET state = $3 WHERE id = $1 AND epoch = $2", [1, 1, JSON.stringify(state)]);
          raw.push(performance.now() - t);
        }
        for (let i = 0; i < 100; i++) {
          locals.n++;
          const t = performance.now();
          if (!(await writeCheckpoint(q, { id, epoch: claim.lease_epoch, state, label: "floor", records: [], consumeSignal: null }))) throw new Error("lease lost");
          ours.push(performance.now() - t);
        }
      }
    } finally {
      client.release();
    }
    return { ours: summary(ours).median, raw: summary(raw).median };
  } finally {
    await db.close();
    await server.dropDatabase(url);
  }
}

// ---------------------------------------------------------------------------------------------

const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const spread = (xs: number[], d = 0) => {
  const s = summary(xs);
  return `${fmt(s.median, d)} (${fmt(s.min, d)}-${fmt(s.max, d)})`;
};

function compare(name: string, unit: string, ours: number[], peer: number[] | null, peerName: string | null, goal: { atLeast?: number; atMost?: number; lowerIsBetter?: boolean }) {
  if (ours.length === 0 || peer?.length === 0) return; // not run (--only, --systems)
  const o = summary(ours).median;
  const p = peer ? summary(peer).median : null;
  const ratio = p === null ? null : goal.lowerIsBetter ? p / o : o / p;
  const met = goal.atMost !== undefined ? (ratio === null ? o <= goal.atMost : ratio <= goal.atMost) : (ratio ?? 0) >= (goal.atLeast ?? 0);
  const goalText = goal.atMost !== undefined ? (ratio === null ? `<= ${goal.atMost} ${unit}` : `ratio <= ${goal.atMost}`) : `ratio >= ${goal.atLeast}`;
  console.log(
    `  ${name.padEnd(34)} ours ${spread(ours, unit === "jobs/s" ? 0 : 2).padEnd(26)} ${peerName ? `${peerName} ${spread(peer!, unit === "jobs/s" ? 0 : 2)}`.padEnd(40) : "".padEnd(40)} ` +
      `${ratio === null ? "" : `${ratio.toFixed(2)}x`} ${met ? "met" : "NOT MET"} (${goalText})`,
  );
  report({ name, unit, ours: o, peer: p, peerName, ratio, goal: goalText, met });
}

await withBenchServer(async (server) => {
  console.log(`peers benchmark: ${ROUNDS} interleaved rounds, concurrency 10 everywhere, load average at start ${loadAverage()}${server.embedded ? ", embedded PostgreSQL" : ""}`);
  const rates = new Map<string, number[]>();
  const push = (key: string, v: number) => rates.set(key, [...(rates.get(key) ?? []), v]);
  const rotate = <T>(xs: T[], r: number) => xs.map((_, i) => xs[(i + r) % xs.length]);

  for (let r = 0; r < ROUNDS; r++) {
    for (const w of (["noop", "checkpoint1", "steps10"] as const).filter(runs)) {
      for (const s of rotate(THROUGHPUT_SYSTEMS, r)) {
        const { rate, cpu } = await drain(server, s, w);
        push(`${w} ${s}`, rate);
        console.log(`  round ${r + 1} ${w} ${s}: ${fmt(rate)} jobs/s; ${cpu} (load ${loadAverage()})`);
      }
    }
    for (const s of runs("backlog") ? rotate(picked(["ours", "graphile batched"] as const), r) : []) {
      const b = await drain(server, s, "backlog");
      push(`backlog-first ${s}`, b.first!);
      push(`backlog-last ${s}`, b.last!);
      console.log(`  round ${r + 1} backlog ${s}: first ${WINDOW_S} s ${fmt(b.first!)} jobs/s, last ${WINDOW_S} s ${fmt(b.last!)} jobs/s (load ${loadAverage()})`);
    }
    for (const s of runs("latency") ? rotate(picked(["ours", "graphile batched", "dbos"] as const), r) : []) {
      const l = await latency(server, s);
      push(`latency-p50 ${s}`, percentile(l, 0.5));
      push(`latency-p99 ${s}`, percentile(l, 0.99));
      console.log(`  round ${r + 1} latency ${s}: p50 ${percentile(l, 0.5).toFixed(2)} ms, p99 ${percentile(l, 0.99).toFixed(2)} ms`);
    }
    if (runs("failover")) push("failover ours", await failover(server));
    for (const bytes of runs("floor") ? [100, 2_048, 65_536] : []) {
      const f = await floor(server, bytes);
      push(`floor-${bytes} ours`, f.ours);
      push(`floor-${bytes} raw`, f.raw);
    }
  }

  const get = (k: string) => rates.get(k) ?? [];
  console.log(`\nmedians of ${ROUNDS} rounds (spread min-max), load average at the end ${loadAverage()}:`);
  for (const w of ["noop", "checkpoint1", "steps10"] as const) {
    compare(`${w} vs graphile batched`, "jobs/s", get(`${w} ours`), get(`${w} graphile batched`), "graphile batched", { atLeast: 1 });
    compare(`${w} vs graphile default`, "jobs/s", get(`${w} ours`), get(`${w} graphile default`), "graphile default", { atLeast: 1 });
    compare(`${w} vs dbos`, "jobs/s", get(`${w} ours`), get(`${w} dbos`), "dbos", { atLeast: 1 });
  }
  compare("backlog first window", "jobs/s", get("backlog-first ours"), get("backlog-first graphile batched"), "graphile batched", { atLeast: 1 });
  compare("backlog last window", "jobs/s", get("backlog-last ours"), get("backlog-last graphile batched"), "graphile batched", { atLeast: 1 });
  compare("latency p50", "ms", get("latency-p50 ours"), get("latency-p50 graphile batched"), "graphile batched", { atLeast: 0, lowerIsBetter: true });
  compare("latency p99", "ms", get("latency-p99 ours"), get("latency-p99 graphile batched"), "graphile batched", { atLeast: 1, lowerIsBetter: true });
  compare("latency p99 vs dbos", "ms", get("latency-p99 ours"), get("latency-p99 dbos"), "dbos", { atLeast: 1, lowerIsBetter: true });
  compare("failover (kill -9, 5 jobs)", "ms", get("failover ours"), null, null, { atMost: TIMEOUT_MS + 2_000 });
  for (const bytes of runs("floor") ? [100, 2_048, 65_536] : []) {
    // Here the raw UPDATE is the "peer" and lower is better for both: the ratio is ours/raw.
    const o = summary(get(`floor-${bytes} ours`)).median;
    const p = summary(get(`floor-${bytes} raw`)).median;
    const goal = bytes === 2_048 ? 1.5 : null;
    console.log(`  checkpoint ${bytes} B vs raw fenced UPDATE     ours ${o.toFixed(3)} ms, raw ${p.toFixed(3)} ms: ${(o / p).toFixed(2)}x${goal ? ` ${o / p <= goal ? "met" : "NOT MET"} (ratio <= ${goal})` : ""}`);
    report({ name: `checkpoint ${bytes} B vs raw UPDATE`, unit: "ms", ours: o, peer: p, peerName: "raw fenced UPDATE", ratio: o / p, goal: goal ? `ratio <= ${goal}` : "none", met: goal ? o / p <= goal : true });
  }
  console.log(`jobs of ours that completed or were claimed twice: ${duplicates}`);
  report({ name: "jobs completed twice", unit: "jobs", ours: duplicates, peer: null, peerName: null, ratio: null, goal: "= 0", met: duplicates === 0 });
  if (duplicates > 0) process.exitCode = 1;
});
