// A graphile-worker process for the peers benchmark: `tsx bench/peers/graphile-worker.ts
// batched|default` with DATABASE_URL. Concurrency 10, as our worker's. "batched" is the preset
// graphile-worker's docs recommend for throughput (a local queue of 500 jobs fetched and locked at
// once, completions batched with no delay); "default" is its out-of-the-box configuration.
import { run, type Task } from "graphile-worker";
import { READY, STATE_2K, wallClockMs } from "./workloads.js";

const mode = process.argv[2] === "default" ? "default" : "batched";

const checkpoint = (n: number): Task => async (payload, helpers) => {
  const { id } = payload as { id: number };
  for (let i = 0; i < n; i++) {
    await helpers.withPgClient((c) => c.query("UPDATE bench_state SET state = $2, step = $3 WHERE id = $1", [id, STATE_2K, i + 1]));
  }
};

const runner = await run({
  connectionString: process.env.DATABASE_URL!,
  concurrency: 10,
  noHandleSignals: false,
  pollInterval: 1_000,
  logger: undefined,
  taskList: {
    noop: async () => undefined,
    backlog: async () => undefined,
    checkpoint1: checkpoint(1),
    steps10: checkpoint(10),
    latency: async (payload, helpers) => {
      const { id } = payload as { id: number };
      await helpers.withPgClient((c) => c.query("INSERT INTO bench_started (id, at_ms) VALUES ($1, $2)", [id, wallClockMs()]));
    },
  },
  preset: mode === "batched" ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } : undefined,
});
process.stderr.write(`${READY}\n`);
await runner.promise;
