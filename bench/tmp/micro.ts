import { randomUUID } from "node:crypto";
import { openDb } from "../../runtime/db/connect.js";
import { claimJobs } from "../../runtime/sql/claim.js";
import { completeJobs } from "../../runtime/sql/complete.js";
import { insertJobs } from "../../runtime/sql/enqueue.js";
import { parentOf, serverCpuMs } from "../cpu.js";
import { withBenchServer } from "../db.js";

const N = 20000, B = 500;
await withBenchServer(async (server) => {
  const url = await server.createDatabase("micro");
  const db = await openDb({ url, max: 4 });
  const slots = Array.from({ length: db.slotCount }, (_, i) => i);
  for (let i = 0; i < N; i += 5000) await insertJobs(db.pool, Array.from({ length: 5000 }, () => ({ id: randomUUID(), runbook: "r", version: "v", params: {} })), "x");
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
    done += claimed.length;
  }
  console.log(`per job: claim ${(claimMs / N * 1000).toFixed(1)} us wall ${(claimCpu / N * 1000).toFixed(1)} us server cpu; complete ${(compMs / N * 1000).toFixed(1)} us wall ${(compCpu / N * 1000).toFixed(1)} us server cpu`);
  await db.close();
});
