// Failover benchmarks with real `runbook worker` processes (`npx tsx bench/failover.ts`):
//  1. failover time: kill -9 of the worker running a checkpointed job, to the first step the
//     job runs on the other worker (median of --runs, default 5), with RUNBOOK_HEARTBEAT_MS and
//     RUNBOOK_TIMEOUT_MS as given (default 500 / 3000; the product defaults are 3000 / 15000:
//     failover takes the timeout plus the same overhead);
//  2. recovery of --orphans (default 10,000) jobs left running by a crashed worker, their leases
//     expired (that state is written straight into the jobs table: a worker of concurrency
//     10,000 to kill would measure itself; test/fault/recovery.test.ts crashes a real one with
//     2,000), across 2 live workers (concurrency 10, claim batch as RUNBOOK_CLAIM_BATCH or the
//     default): time until all have completed, and how the claims were batched and shared
//     (--orphans 0 skips it).
// Database: a fresh database on DATABASE_URL's server, else a temporary embedded cluster.
import { randomUUID } from "node:crypto";
import type { Db } from "../runtime/db/connect.js";
import { bundleProject, publishBundles } from "../runtime/publish.js";
import { assignSlots } from "../runtime/slots.js";
import { insertJobs } from "../runtime/sql/enqueue.js";
import { withBenchDatabase } from "./db.js";
import { kill, loadAverage, median, module, sleep, startWorker as spawnWorker, until, type Proc } from "./workers.js";
import { option } from "./options.js";

const RUNS = option("runs", 5);
const ORPHANS = option("orphans", 10_000);
const HEARTBEAT_MS = Number(process.env.RUNBOOK_HEARTBEAT_MS ?? 500);
const TIMEOUT_MS = Number(process.env.RUNBOOK_TIMEOUT_MS ?? 3_000);

// 40 steps, each recorded by the fault tests' ledger activity, a checkpoint after each.
const STEPS = module(
  "bench_steps",
  `for (;;) {
     if (frame.pc % 2 === 0) {
       if (frame.pc >= 80) return { kind: "return", value: null };
       frame.pc++;
       await ctx.activity("ledger", "step", { step: (frame.pc + 1) / 2, ms: 100 });
     } else { frame.pc++; return { kind: "checkpoint", label: "step" }; }
   }`,
  { ledger: "../test/fault/fixtures/ledger.ts" },
);
const ONE_CHECKPOINT = module(
  "bench_orphan",
  `if (frame.pc === 0) { frame.pc = 1; return { kind: "checkpoint", label: "half" }; } return { kind: "return", value: null };`,
);

async function ids(db: Db, owner: string, workers: string[], n: number): Promise<string[]> {
  const owners = assignSlots(db.slotCount, workers);
  const out: string[] = [];
  while (out.length < n) {
    const batch = Array.from({ length: 64 }, () => randomUUID());
    const { rows } = await db.pool.query<{ id: string; slot: number }>("SELECT id, runbook_slot(id) AS slot FROM unnest($1::text[]) AS id", [batch]);
    for (const r of rows) if (owners[r.slot] === owner && out.length < n) out.push(r.id);
  }
  return out;
}

const startWorker = (url: string, name: string): Promise<Proc> =>
  spawnWorker(url, name, { RUNBOOK_HEARTBEAT_MS: String(HEARTBEAT_MS), RUNBOOK_TIMEOUT_MS: String(TIMEOUT_MS) });

async function benchFailover(db: Db, url: string, version: string): Promise<void> {
  const names = ["fa", "fb"];
  const procs = new Map<string, Proc>();
  for (const n of names) procs.set(n, await startWorker(url, n));
  const times: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const victim = names[run % 2];
      const [id] = await ids(db, victim, names, 1);
      await insertJobs(db.pool, [{ id, runbook: "bench_steps", version, params: {} }], "bench");
      await until("two steps done on the victim", async () => {
        const { rows } = await db.pool.query("SELECT 1 FROM ledger WHERE job = $1 AND worker = $2 AND step = 2 AND ended_at IS NOT NULL", [id, victim]);
        return rows.length > 0;
      });
      const killedAt = Date.now();
      await kill(procs.get(victim)!);
      const first = await until("the first resumed step", async () => {
        const { rows } = await db.pool.query<{ started_at: Date }>("SELECT started_at FROM ledger WHERE job = $1 AND worker <> $2 ORDER BY id LIMIT 1", [id, victim]);
        return rows[0];
      }, TIMEOUT_MS + 30_000);
      times.push(first.started_at.getTime() - killedAt);
      await db.pool.query("UPDATE jobs SET control = 'stop' WHERE id = $1", [id]);
      procs.set(victim, await startWorker(url, victim));
      // Both alive and owning their slots again before the next run.
      await sleep(2 * HEARTBEAT_MS + 100);
    }
  } finally {
    for (const p of procs.values()) await kill(p);
  }
  const overhead = times.map((t) => t - TIMEOUT_MS);
  console.log(
    `failover (kill -9 -> first resumed step), heartbeat ${HEARTBEAT_MS} ms, timeout ${TIMEOUT_MS} ms: median ${median(times)} ms over ${RUNS} runs ` +
      `(min ${Math.min(...times)}, max ${Math.max(...times)}); beyond the timeout: median ${median(overhead)} ms`,
  );
}

async function benchRecovery(db: Db, url: string, version: string): Promise<void> {
  const names = ["ra", "rb"];
  const procs = await Promise.all(names.map((n) => startWorker(url, n)));
  try {
    await sleep(2 * HEARTBEAT_MS + 100); // both see each other and split the slots
    const list = Array.from({ length: ORPHANS }, () => randomUUID());
    // The state a crash leaves: jobs running under a dead worker's lease, already expired.
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      for (let i = 0; i < list.length; i += 5_000) {
        await insertJobs(client, list.slice(i, i + 5_000).map((id) => ({ id, runbook: "bench_orphan", version, params: {} })), "bench");
      }
      await client.query("UPDATE jobs SET status = 'running', worker = 'crashed', lease_epoch = 1, due_at = now() WHERE id = ANY($1)", [list]);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const t0 = performance.now();
    let firstAll = 0;
    await until("all recovered", async () => {
      const { rows } = await db.pool.query<{ done: number; claimed: number }>(
        "SELECT count(*) FILTER (WHERE status = 'completed')::int AS done, count(*) FILTER (WHERE worker <> 'crashed')::int AS claimed FROM jobs WHERE runbook = 'bench_orphan'",
      );
      if (!firstAll && rows[0].claimed === ORPHANS) firstAll = performance.now() - t0;
      return rows[0].done === ORPHANS;
    }, 600_000, 100);
    const ms = performance.now() - t0;
    const { rows } = await db.pool.query<{ worker: string; batches: number; jobs: number; max: number }>(
      `SELECT worker, count(*)::int AS batches, sum(n)::int AS jobs, max(n)::int AS max FROM (
         SELECT worker, at, count(*) AS n FROM job_history WHERE reason = 'lease of crashed expired; resumed from the latest checkpoint' GROUP BY worker, at
       ) b GROUP BY worker ORDER BY worker`,
    );
    console.log(
      `recovery of ${ORPHANS} orphaned jobs (expired leases) on 2 workers of concurrency 10: all claimed in ${(firstAll / 1000).toFixed(2)} s, ` +
        `all completed in ${(ms / 1000).toFixed(2)} s (${Math.round(ORPHANS / (ms / 1000))} jobs/s); ` +
        rows.map((r) => `${r.worker}: ${r.jobs} jobs in ${r.batches} claims of at most ${r.max}`).join(", "),
    );
  } finally {
    for (const p of procs) await kill(p);
  }
}

await withBenchDatabase("runbook_failover", 4, async ({ db, url, embedded }) => {
  await db.pool.query(`CREATE TABLE ledger (id bigserial PRIMARY KEY, job text NOT NULL, step integer NOT NULL, part text NOT NULL,
    worker text NOT NULL, epoch bigint NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz, aborted boolean)`);
  const published = await publishBundles(db, await bundleProject([STEPS, ONE_CHECKPOINT]));
  const version = (n: string) => published.find((p) => p.runbook === n)!.hash;
  const load = loadAverage();
  console.log(`failover bench, load average ${load}${embedded ? ", embedded PostgreSQL" : ""}`);
  await benchFailover(db, url, version("bench_steps"));
  if (ORPHANS > 0) await benchRecovery(db, url, version("bench_orphan"));
});
