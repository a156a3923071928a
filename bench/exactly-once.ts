// Exactly once with no fault at all (`npm run bench -- exactly-once`): --jobs short jobs
// (default 2,000: an output, a checkpoint, an output after it, the end) on --workers real
// `runbook worker` processes (default 4, heartbeat 500 ms, lease timeout 3 s), then one more lease
// timeout and a margin, so a job claimed again "one lease timeout after completing" (issue 9)
// has time to show. Counts, from job_history, the jobs' lease epochs and job_streams:
//   - jobs that left an ended status (ran again after completing);
//   - jobs claimed more than once (with no fault and a settled deployment, each is claimed once);
//   - jobs whose output is not exactly ["before", "after"] (lost or duplicate records).
// Prints one summary line and exits 1 on any violation.
import { randomUUID } from "node:crypto";
import { bundleProject, publishBundles } from "../runtime/publish.js";
import { insertJobs } from "../runtime/sql/enqueue.js";
import { withBenchDatabase } from "./db.js";
import { kill, loadAverage, module, sleep, startWorker, until, type Proc } from "./workers.js";
import { option } from "./options.js";

const JOBS = option("jobs", 2_000);
const WORKERS = option("workers", 4);
const HEARTBEAT_MS = 500;
const TIMEOUT_MS = 3_000;

const JOB = module(
  "eo_job",
  `if (frame.pc === 0) { ctx.emit("output", "before"); frame.pc = 1; return { kind: "checkpoint", label: "half" }; }
   ctx.emit("output", "after"); return { kind: "return", value: null };`,
);

await withBenchDatabase("runbook_exactly_once", 4, async ({ db, url }) => {
  const [published] = await publishBundles(db, await bundleProject([JOB]));
  const names = Array.from({ length: WORKERS }, (_, i) => `eo${i + 1}`);
  const env = { RUNBOOK_HEARTBEAT_MS: String(HEARTBEAT_MS), RUNBOOK_TIMEOUT_MS: String(TIMEOUT_MS) };
  const procs: Proc[] = [];
  try {
    for (const n of names) procs.push(await startWorker(url, n, env));
    // Every worker named in the deployment and seen alive, so no slot moves (and no job is
    // handed over, legitimately claimed twice) while the jobs run.
    await until("the deployment to settle", async () => {
      const { rows } = await db.pool.query<{ workers: string[] }>("SELECT workers FROM deployments ORDER BY generation DESC LIMIT 1");
      return rows[0]?.workers.length === WORKERS;
    });
    await sleep(3 * HEARTBEAT_MS);

    const t0 = performance.now();
    const ids = Array.from({ length: JOBS }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 1_000) {
      await insertJobs(db.pool, ids.slice(i, i + 1_000).map((id) => ({ id, runbook: "eo_job", version: published.hash, params: {} })), "bench");
    }
    await until("every job to complete", async () => {
      const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE status = 'completed'");
      return rows[0].n === JOBS;
    }, 600_000, 100);
    const seconds = (performance.now() - t0) / 1000;
    await sleep(TIMEOUT_MS + 2_000);

    const { rows: [c] } = await db.pool.query<{ reran: number; reclaimed: number; bad_output: number; not_completed: number }>(
      `SELECT
         (SELECT count(DISTINCT job_id) FROM job_history WHERE from_status IN ('completed', 'failed', 'stopped'))::int AS reran,
         -- Every claim bumps the lease epoch (a first claim writes no history row: migration 0008).
         (SELECT count(*) FROM jobs WHERE lease_epoch > 1)::int AS reclaimed,
         (SELECT count(*) FROM jobs j WHERE (SELECT array_agg(value #>> '{}' ORDER BY seq) FROM job_streams s WHERE s.job_id = j.id) IS DISTINCT FROM ARRAY['before', 'after'])::int AS bad_output,
         (SELECT count(*) FROM jobs WHERE status <> 'completed')::int AS not_completed`,
    );
    const violations = c.reran + c.reclaimed + c.bad_output + c.not_completed;
    console.log(
      `exactly once, no faults: ${JOBS} jobs on ${WORKERS} workers (heartbeat ${HEARTBEAT_MS} ms, timeout ${TIMEOUT_MS} ms) in ${seconds.toFixed(1)} s, ` +
        `then ${(TIMEOUT_MS + 2_000) / 1000} s more; load average ${loadAverage()}`,
    );
    console.log(
      `ran again after ending: ${c.reran}; claimed more than once: ${c.reclaimed}; output not exactly once: ${c.bad_output}; ` +
        `not completed at the end: ${c.not_completed} -> ${violations === 0 ? "OK" : "VIOLATIONS"}`,
    );
    process.exitCode = violations === 0 ? 0 : 1;
  } finally {
    for (const p of procs) await kill(p);
  }
});
