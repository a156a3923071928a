// The hot path's two statements alone (`npm run bench -- statements`): --jobs (20,000) queued
// no-op jobs claimed in batches of --batch (500) and completed in the same batches, one after
// the other on one connection, as a worker does at full speed; wall time and the server's CPU
// (bench/cpu.ts) per job of each. What a claim and a completion cost the database, apart from
// the worker, the heartbeat and the benchmark's own polls.
import { randomUUID } from "node:crypto";
import { openDb } from "../runtime/db/connect.js";
import { claimJobs } from "../runtime/sql/claim.js";
import { completeJobs } from "../runtime/sql/complete.js";
import { insertJobs } from "../runtime/sql/enqueue.js";
import { parentOf, serverCpuMs } from "./cpu.js";
import { withBenchServer } from "./db.js";
import { option } from "./options.js";
import { report } from "./report.js";
import { loadAverage } from "./workers.js";

const N = option("jobs", 20_000);
const B = option("batch", 500);
await withBenchServer(async (server) => {
  const url = await server.createDatabase("statements");
  const db = await openDb({ url, max: 4 });
  const slots = Array.from({ length: db.slotCount }, (_, i) => i);
  for (let i = 0; i < N; i += 5000) await insertJobs(db.pool, Array.from({ length: Math.min(5000, N - i) }, () => ({ id: randomUUID(), runbook: "r", version: "v", params: {} })), "bench");
  await db.pool.query("VACUUM ANALYZE jobs");
  const pm = parentOf((await db.pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
  let claimCpu = 0, compCpu = 0, claimMs = 0, compMs = 0;
  for (let done = 0; done < N; ) {
    let c0 = serverCpuMs(pm), t0 = performance.now();
    const claimed = await claimJobs(db.pool, "w", slots, B, 60000);
    claimMs += performance.now() - t0; claimCpu += serverCpuMs(pm) - c0;
    c0 = serverCpuMs(pm); t0 = performance.now();
    await completeJobs(db.pool, "w", claimed.map((c) => ({ id: c.id, epoch: c.lease_epoch, status: "completed" as const, result: null, error: null, records: [], consumeSignal: null, reason: "completed" })));
    compMs += performance.now() - t0; compCpu += serverCpuMs(pm) - c0;
    if (claimed.length === 0) throw new Error(`nothing left to claim after ${done} jobs`);
    done += claimed.length;
  }
  console.log(`${N} no-op jobs, claim and completion batches of ${B}, load average ${loadAverage()}`);
  console.log(`per job: claim ${(claimMs / N * 1000).toFixed(1)} us wall ${(claimCpu / N * 1000).toFixed(1)} us server cpu; complete ${(compMs / N * 1000).toFixed(1)} us wall ${(compCpu / N * 1000).toFixed(1)} us server cpu`);
  for (const [name, cpu] of [["claim", claimCpu], ["completion", compCpu]] as const) {
    report({ name: `${name} statement, server CPU per no-op job`, unit: "us", ours: (cpu / N) * 1000, peer: null, peerName: null, ratio: null, goal: "none", met: true });
  }
  await db.close();
});
