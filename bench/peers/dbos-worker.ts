// A DBOS Transact process for the peers benchmark: `tsx bench/peers/dbos-worker.ts` with
// DATABASE_URL as its system database. One queue, `bench`, with worker concurrency 10 (as our
// worker's); each workload is a workflow whose checkpoints are steps.
import { DBOS } from "@dbos-inc/dbos-sdk";
import pg from "pg";
import { READY, STATE_2K, wallClockMs } from "./workloads.js";

DBOS.setConfig({ name: "runbook-bench", systemDatabaseUrl: process.env.DATABASE_URL!, logLevel: "error" });

const steps = (n: number) => async () => {
  for (let i = 0; i < n; i++) await DBOS.runStep(async () => STATE_2K, { name: `step${i}` });
};
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL!, max: 2 });
DBOS.registerWorkflow(async () => undefined, { name: "noop" });
DBOS.registerWorkflow(async () => undefined, { name: "backlog" });
DBOS.registerWorkflow(steps(1), { name: "checkpoint1" });
DBOS.registerWorkflow(steps(10), { name: "steps10" });
DBOS.registerWorkflow(async (id: number) => {
  await pool.query("INSERT INTO bench_started (id, at_ms) VALUES ($1, $2)", [id, wallClockMs()]);
}, { name: "latency" });

await DBOS.launch();
// The queue's dispatch loop polls every second by default, which caps a queue of worker
// concurrency 10 near 10 jobs/s whatever the database can do; 10 ms takes polling out of the way.
await DBOS.registerQueue("bench", { workerConcurrency: 10, minPollingIntervalMs: 10 });
process.stderr.write(`${READY}\n`);
const stop = async () => {
  await DBOS.shutdown();
  await pool.end();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
