// Runtime benchmarks, against one database in one run (`npx tsx bench/runtime.ts`):
//  1. one checkpoint of a 2 KB state (runtime/sql/checkpoint.ts, fenced) against a raw
//     single-row UPDATE of the same payload through pg into a json column (what jobs.state is,
//     migration 0005); goal: at most 1.5x. The same UPDATE into a jsonb column is timed beside
//     them: what parsing and storing the state as jsonb costs on every checkpoint.
//  2. end-to-end throughput of 20,000 jobs, one worker, concurrency 10: no-op jobs (goal at
//     least 5,000 jobs/s) and jobs with one checkpoint (goal at least 2,000 jobs/s).
// Database: a fresh database on DATABASE_URL's server, else a temporary embedded cluster.
// Options: --jobs N (default 20000), --ops N checkpoint samples (default 4000), --checkpoint-only
// (skip 2); BENCH_POOL=N connections (default 8, as `runbook worker` opens them).
import { randomUUID, randomBytes } from "node:crypto";
import pg from "pg";
import type { JobState } from "../runtime/abi.js";
import type { Db } from "../runtime/db/connect.js";
import { encodeJson } from "../runtime/json-text.js";
import { bundleProject, publishBundles } from "../runtime/publish.js";
import { claimJobs } from "../runtime/sql/claim.js";
import { writeCheckpoint } from "../runtime/sql/checkpoint.js";
import { insertJobs } from "../runtime/sql/enqueue.js";
import { Worker } from "../runtime/worker.js";
import { withBenchDatabase } from "./db.js";
import { option } from "./options.js";

const JOBS = option("jobs", 20_000);
const OPS = option("ops", 4_000);

function module(name: string, body: string) {
  const js = `export const runbook = { name: ${JSON.stringify(name)}, file: "${name}.runbook", params: [], returns: null,
    canSuspend: true, calls: [], uses: {}, live: {}, positions: { 0: [1, 1] },
    async step(frame, ctx, input) { ${body} } };`;
  return { name, file: `${name}.runbook`, js, params: [], calls: [], uses: {} };
}
const NOOP = module("bench_noop", `return { kind: "return", value: null };`);
const ONE_CHECKPOINT = module(
  "bench_checkpoint",
  `if (frame.pc === 0) { frame.pc = 1; return { kind: "checkpoint", label: "half" }; } return { kind: "return", value: null };`,
);

/** A job state of about 2 KB: one frame with a handful of string and number locals. */
function state2k(): JobState {
  const locals: Record<string, string | number> = {};
  for (let i = 0; i < 18; i++) locals[`local_${i}`] = randomBytes(48).toString("hex");
  locals.counter = 0;
  const s = { frames: [{ runbook: "bench_checkpoint", pc: 1, locals }], seq: 0 };
  return s;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function benchCheckpoint(db: Db): Promise<void> {
  const versions = await publishBundles(db, await bundleProject([ONE_CHECKPOINT]));
  const id = randomUUID();
  await insertJobs(db.pool, [{ id, runbook: "bench_checkpoint", version: versions[0].hash, params: {} }], "bench");
  const all = Array.from({ length: db.slotCount }, (_, i) => i);
  const [claim] = await claimJobs(db.pool, "bench", all, 1, 3_600_000);
  const state = state2k();
  const bytes = Buffer.byteLength(encodeJson(state, "state"));

  await db.pool.query("CREATE TABLE bench_raw (id int PRIMARY KEY, state json) WITH (fillfactor = 70)");
  await db.pool.query("CREATE TABLE bench_rawb (id int PRIMARY KEY, state jsonb) WITH (fillfactor = 70)");
  await db.pool.query("INSERT INTO bench_raw VALUES (1, $1)", [encodeJson(state, "state")]);
  await db.pool.query("INSERT INTO bench_rawb VALUES (1, $1)", [encodeJson(state, "state")]);
  // One connection each, as a worker's checkpoint uses one.
  const client = await db.pool.connect();
  const asQueryable = { query: client.query.bind(client) } as unknown as pg.Pool;
  const raw: number[] = [];
  const rawb: number[] = [];
  const ours: number[] = [];
  const round = 200;
  try {
    for (let done = 0; done < OPS; done += round) {
      for (const [table, samples] of [["bench_raw", raw], ["bench_rawb", rawb]] as const) {
        for (let i = 0; i < round; i++) {
          (state.frames[0].locals.counter as number)++;
          const t = process.hrtime.bigint();
          await client.query(`UPDATE ${table} SET state = $2 WHERE id = $1`, [1, encodeJson(state, "state")]);
          samples.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
      for (let i = 0; i < round; i++) {
        (state.frames[0].locals.counter as number)++;
        const t = process.hrtime.bigint();
        const r = await writeCheckpoint(asQueryable, { id, epoch: claim.lease_epoch, state, label: "half", records: [], consumeSignal: null });
        ours.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (!r) throw new Error("the benchmark job's lease was lost");
      }
    }
  } finally {
    client.release();
  }
  const mr = median(raw);
  const mb = median(rawb);
  const mo = median(ours);
  console.log(`checkpoint of a ${bytes}-byte state, ${ours.length} samples each, alternating rounds of ${round}:`);
  console.log(`  raw UPDATE via pg      median ${mr.toFixed(3)} ms  p90 ${pct(raw, 0.9).toFixed(3)} ms  (${Math.round(1000 / mr)}/s)`);
  console.log(`  same, jsonb column     median ${mb.toFixed(3)} ms  p90 ${pct(rawb, 0.9).toFixed(3)} ms  (${Math.round(1000 / mb)}/s; json saves ${(mb - mr).toFixed(3)} ms)`);
  console.log(`  runbook checkpoint     median ${mo.toFixed(3)} ms  p90 ${pct(ours, 0.9).toFixed(3)} ms  (${Math.round(1000 / mo)}/s)`);
  console.log(`  ratio (median)         ${(mo / mr).toFixed(2)}x   goal <= 1.5x`);
}

async function benchThroughput(db: Db, mod: ReturnType<typeof module>, label: string, goal: number): Promise<void> {
  const [published] = await publishBundles(db, await bundleProject([mod]));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < JOBS; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, JOBS - i) }, () => ({ id: randomUUID(), runbook: mod.name, version: published.hash, params: {} }));
    await insertJobs(db.pool, batch, "bench");
  }
  const enqueueMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await db.pool.query("VACUUM ANALYZE jobs");
  const start = process.hrtime.bigint();
  // A job leaves the worker once its final status is committed: count those.
  let left = 0;
  let allDone!: () => void;
  const finished = new Promise<void>((r) => (allDone = r));
  const worker = await Worker.start(db, { name: `bench-${label}`, concurrency: 10, onJobLeft: () => ++left === JOBS && allDone() });
  await finished;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await worker.stop();
  const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE runbook = $1 AND status = 'completed'", [mod.name]);
  if (rows[0].n !== JOBS) throw new Error(`only ${rows[0].n} of ${JOBS} jobs completed`);
  const rate = JOBS / seconds;
  console.log(`${label}: ${JOBS} jobs in ${seconds.toFixed(2)} s = ${Math.round(rate)} jobs/s (goal >= ${goal}; enqueue ${Math.round(JOBS / (enqueueMs / 1000))} jobs/s in batches of 1000)`);
}

// A pool as `runbook worker` opens it (cli/worker.ts).
await withBenchDatabase("runbook_bench", Number(process.env.BENCH_POOL ?? 8), async ({ db, embedded }) => {
  const { rows } = await db.pool.query<{ v: string; sc: string }>("SELECT version() AS v, current_setting('synchronous_commit') AS sc");
  console.log(`${rows[0].v.split(",")[0]}, synchronous_commit=${rows[0].sc}${embedded ? " (embedded)" : ""}`);
  await benchCheckpoint(db);
  if (process.argv.includes("--checkpoint-only")) return;
  await benchThroughput(db, NOOP, "no-op jobs", 5_000);
  await benchThroughput(db, ONE_CHECKPOINT, "one-checkpoint jobs", 2_000);
});
