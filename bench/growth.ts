// Cost growth (`npm run bench -- growth`, or `npx tsx bench/growth.ts --sizes 10000,200000`):
// does a no-op job cost the same when the jobs table already holds many finished jobs, and while
// another session holds a transaction open (the xmin horizon: vacuum can remove no dead row
// version younger than that transaction)?
//   1. for each of --sizes (default 10,000, 200,000, 1,000,000) finished jobs already in the
//      table (each with the history row its enqueue left), a fresh database: --jobs (20,000)
//      no-op jobs queued, then one worker of concurrency 10 drains them; jobs/s, and beside it
//      what a job cost: worker CPU, server CPU (the postmaster's processes), WAL bytes, and the
//      share of HOT updates on jobs. The goal: at the largest size at least 0.8x of the smallest.
//      After the largest, the table and index sizes.
//   2. --xmin-minutes (default 10) of batches of --xmin-batch (5,000) no-op jobs, queued and
//      drained one after another, while another session sits in a REPEATABLE READ transaction
//      holding its snapshot; jobs/s of the first and the last minute. 0 skips it.
// The worker runs in this process (runtime/worker.ts, pool of 8 as `runbook worker` opens it)
// so its CPU time is this process's. Retention is off: nothing is pruned while measuring.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { openDb, type Db } from "../runtime/db/connect.js";
import { bundleProject, publishBundles } from "../runtime/publish.js";
import { insertJobs } from "../runtime/sql/enqueue.js";
import { Worker } from "../runtime/worker.js";
import { parentOf, serverCpuMs } from "./cpu.js";
import { withBenchServer, type BenchServer } from "./db.js";
import { option } from "./options.js";
import { report } from "./report.js";
import { loadAverage, module } from "./workers.js";

const SIZES = (process.argv.includes("--sizes") ? process.argv[process.argv.indexOf("--sizes") + 1] : process.env.BENCH_SIZES ?? "10000,200000,1000000").split(",").map(Number);
const JOBS = option("jobs", 20_000);
const XMIN_MINUTES = option("xmin-minutes", 10);
const XMIN_BATCH = option("xmin-batch", 5_000);
const NOOP = module("growth_noop", `return { kind: "return", value: null };`);

/** What the server and the worker spent between two readings. */
interface Reading { serverCpuMs: number; workerCpuMs: number; walBytes: number; fpi: number; upd: number; hot: number; commits: number; auto: number }

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

async function read(db: Db, postmaster: number): Promise<Reading> {
  const { rows: [r] } = await db.pool.query<{ wal: string; fpi: string; upd: string; hot: string; commits: string; auto: string }>(
    `SELECT (SELECT wal_bytes FROM pg_stat_wal)::text AS wal, (SELECT wal_fpi FROM pg_stat_wal)::text AS fpi,
            (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::text AS commits,
            (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'jobs')::text AS upd,
            (SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'jobs')::text AS hot,
            (SELECT autovacuum_count + autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'jobs')::text AS auto`,
  );
  const cpu = process.cpuUsage();
  return { serverCpuMs: serverCpuMs(postmaster), workerCpuMs: (cpu.user + cpu.system) / 1000, walBytes: Number(r.wal), fpi: Number(r.fpi), upd: Number(r.upd), hot: Number(r.hot), commits: Number(r.commits), auto: Number(r.auto) };
}

async function postmasterOf(db: Db): Promise<number> {
  const { rows } = await db.pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  return parentOf(rows[0].pid);
}

/** `n` finished no-op jobs, as the real path leaves them: the job row and its enqueue's history row. */
async function fill(db: Db, version: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 100_000) {
    const k = Math.min(100_000, n - i);
    await db.pool.query(
      `WITH j AS (
         INSERT INTO jobs (id, runbook, version, slot, status, params, worker, lease_epoch, created_at, started_at, updated_at, finished_at)
         SELECT id, $2, $3, runbook_slot(id), 'completed', '{}', 'filler', 1, now(), now(), now(), now()
         FROM (SELECT gen_random_uuid()::text AS id FROM generate_series(1, $1)) g
         RETURNING id
       )
       INSERT INTO job_history (job_id, from_status, to_status, reason) SELECT id, NULL, 'queued', 'bench' FROM j`,
      [k, NOOP.name, version],
    );
  }
  await db.pool.query("VACUUM ANALYZE jobs");
  await db.pool.query("VACUUM ANALYZE job_history");
}

async function enqueue(db: Db, version: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 5_000) {
    const batch = Array.from({ length: Math.min(5_000, n - i) }, () => ({ id: randomUUID(), runbook: NOOP.name, version, params: {} }));
    await insertJobs(db.pool, batch, "bench");
  }
}

/** Drains `n` queued jobs on a fresh worker; seconds from its start to the last one done. */
async function drain(db: Db, n: number, name: string): Promise<number> {
  let left = 0;
  let allDone!: () => void;
  const finished = new Promise<void>((r) => (allDone = r));
  const start = performance.now();
  const worker = await Worker.start(db, { name, concurrency: 10, retentionMs: 0, onJobLeft: () => ++left === n && allDone() });
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await worker.stop();
  return seconds;
}

async function atSize(server: BenchServer, size: number): Promise<{ rate: number; sizes?: string }> {
  const url = await server.createDatabase("growth");
  const db = await openDb({ url, max: 8 });
  try {
    const [published] = await publishBundles(db, await bundleProject([NOOP]));
    const t0 = performance.now();
    await fill(db, published.hash, size);
    const fillS = (performance.now() - t0) / 1000;
    const postmaster = await postmasterOf(db);
    // Two passes of --jobs each. The first, right after the fill, pays a full-page image in the
    // WAL for each index page it is the first to change since the last checkpoint (the filler's
    // volume of WAL starts one): at 1,000,000 jobs that is most leaves of the random-key indexes.
    // The second finds most of them already logged, as a worker running for a while does
    // between checkpoints. The goal is read on the second; both are printed.
    let rate = 0;
    for (const pass of ["first", "second"] as const) {
      await enqueue(db, published.hash, JOBS);
      await db.pool.query("VACUUM ANALYZE jobs");
      const before = await read(db, postmaster);
      const seconds = await drain(db, JOBS, `growth-${size}-${pass}`);
      const after = await read(db, postmaster);
      rate = JOBS / seconds;
      const upd = after.upd - before.upd;
      console.log(
        `  ${fmt(size).padStart(9)} finished jobs in the table (filled in ${fillS.toFixed(0)} s), ${pass} pass: ${fmt(rate)} jobs/s; per job: worker ${((after.workerCpuMs - before.workerCpuMs) / JOBS).toFixed(3)} ms CPU, ` +
          `server ${((after.serverCpuMs - before.serverCpuMs) / JOBS).toFixed(3)} ms CPU, ${fmt((after.walBytes - before.walBytes) / JOBS)} B of WAL (${((1000 * (after.fpi - before.fpi)) / JOBS).toFixed(0)} full-page images per 1,000 jobs), ${((after.commits - before.commits) / JOBS).toFixed(2)} transactions; ` +
          `HOT ${upd ? Math.round((100 * (after.hot - before.hot)) / upd) : 0}% of ${fmt(upd)} updates of jobs, ${after.auto - before.auto} autovacuum/analyze runs (load ${loadAverage()})`,
      );
    }
    const { rows } = await db.pool.query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_relation_size(c.oid)::text AS bytes FROM pg_class c
       WHERE c.relname IN ('jobs', 'job_history', 'job_streams') OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN ('jobs'::regclass, 'job_history'::regclass))
       ORDER BY pg_relation_size(c.oid) DESC`,
    );
    return { rate, sizes: rows.map((r) => `${r.name} ${mb(Number(r.bytes))}`).join(", ") };
  } finally {
    await db.close();
    await server.dropDatabase(url);
  }
}

/** Batches of no-op jobs for `minutes` while another session holds a snapshot open. */
async function underOpenTransaction(server: BenchServer, minutes: number): Promise<{ first: number; last: number }> {
  const url = await server.createDatabase("growth_xmin");
  const db = await openDb({ url, max: 8 });
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  try {
    const [published] = await publishBundles(db, await bundleProject([NOOP]));
    // The open transaction: its snapshot keeps every row version deleted after it from vacuum.
    await holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await holder.query("SELECT count(*) FROM jobs");
    const batches: { at: number; rate: number }[] = [];
    const t0 = performance.now();
    let i = 0;
    while (performance.now() - t0 < minutes * 60_000) {
      await enqueue(db, published.hash, XMIN_BATCH);
      const s = await drain(db, XMIN_BATCH, `xmin-${i++}`);
      batches.push({ at: (performance.now() - t0) / 1000, rate: XMIN_BATCH / s });
      console.log(`    ${batches.at(-1)!.at.toFixed(0)} s: ${fmt(batches.at(-1)!.rate)} jobs/s (load ${loadAverage()})`);
    }
    const end = batches.at(-1)!.at;
    const mean = (xs: { rate: number }[]) => xs.reduce((a, b) => a + b.rate, 0) / Math.max(1, xs.length);
    const first = mean(batches.filter((b) => b.at <= Math.min(60, end / 2)));
    const last = mean(batches.filter((b) => b.at >= Math.max(end - 60, end / 2)));
    await holder.query("ROLLBACK");
    return { first, last };
  } finally {
    await holder.end();
    await db.close();
    await server.dropDatabase(url);
  }
}

await withBenchServer(async (server) => {
  console.log(`growth benchmark: ${fmt(JOBS)} no-op jobs at each size (${SIZES.map(fmt).join(", ")} finished jobs in the table), worker concurrency 10, load average ${loadAverage()}${server.embedded ? ", embedded PostgreSQL" : ""}`);
  const rates: number[] = [];
  let sizes = "";
  for (const size of SIZES) {
    const r = await atSize(server, size);
    rates.push(r.rate);
    sizes = r.sizes ?? sizes;
  }
  const ratio = rates.at(-1)! / rates[0];
  console.log(`  at ${fmt(SIZES.at(-1)!)} / at ${fmt(SIZES[0])}: ${ratio.toFixed(2)}x ${ratio >= 0.8 ? "met" : "NOT MET"} (ratio >= 0.8)`);
  console.log(`  sizes after ${fmt(SIZES.at(-1)!)} finished + ${fmt(JOBS)} no-op jobs: ${sizes}`);
  report({ name: `noop with ${SIZES.at(-1)} jobs in the table vs ${SIZES[0]}`, unit: "jobs/s", ours: rates.at(-1)!, peer: rates[0], peerName: `ours at ${SIZES[0]}`, ratio, goal: "ratio >= 0.8", met: ratio >= 0.8 });
  if (XMIN_MINUTES > 0) {
    console.log(`  ${XMIN_MINUTES} minutes of batches of ${fmt(XMIN_BATCH)} no-op jobs while another session holds a transaction open:`);
    const x = await underOpenTransaction(server, XMIN_MINUTES);
    const r = x.last / x.first;
    console.log(`  first minute ${fmt(x.first)} jobs/s, last minute ${fmt(x.last)} jobs/s: ${r.toFixed(2)}x (load ${loadAverage()})`);
    report({ name: `noop, last vs first minute of ${XMIN_MINUTES} with a transaction open`, unit: "jobs/s", ours: x.last, peer: x.first, peerName: "ours, first minute", ratio: r, goal: "none", met: true });
  }
});
