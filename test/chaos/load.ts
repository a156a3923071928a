// The load: keeps about `active` jobs of the soak's mix (jobs.ts) queued, running or parked,
// mostly through the product's own enqueue function (one statement per batch), and every tenth
// batch one job through `runbook start`, as a user would.
import { withTransaction } from "../../runtime/db/tx.js";
import { controlJob } from "../../runtime/sql/control.js";
import { insertJobs } from "../../runtime/sql/enqueue.js";
import type { Soak } from "./context.js";
import { cliParams, randomJob } from "./jobs.js";
import type { Prng } from "./prng.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function loadLane(soak: Soak, rng: Prng, running: () => boolean): Promise<void> {
  const { pool } = soak.project;
  let n = 0;
  let batches = 0;
  let failing = false;
  while (running()) {
    try {
      await review(soak);
      const { rows } = await pool.query<{ active: number }>("SELECT count(*)::int AS active FROM jobs WHERE status NOT IN ('completed', 'failed', 'stopped') AND parent_id IS NULL");
      const room = Math.min(25, soak.settings.active - rows[0].active);
      if (room > 0) {
        batches++;
        if (batches % 10 === 0) {
          const job = randomJob(rng);
          const r = await soak.gate.cli(["start", job.runbook, ...cliParams(job.params)]);
          if (r.code !== 0) soak.log(`runbook start ${job.runbook}: ${r.stderr.trim()}`);
        } else {
          const versions = new Map((await pool.query<{ name: string; version: string }>("SELECT name, version FROM runbooks")).rows.map((r) => [r.name, r.version]));
          const jobs = Array.from({ length: room }, () => {
            const job = randomJob(rng);
            return { id: `c${soak.settings.seed}-${++n}`, runbook: job.runbook, version: versions.get(job.runbook)!, params: job.params };
          });
          await insertJobs(pool, jobs, "queued by the chaos soak");
        }
      }
      failing = false;
    } catch (e) {
      // Once per outage, not every 250 ms of it.
      if (!failing) soak.log(`load: ${(e as Error).message}`);
      failing = true;
    }
    await sleep(250);
  }
}

/**
 * The operator reviewing suspended jobs: each one suspended for 3 s or more is resumed (through
 * the product's control function; the operator lane resumes through `runbook resume` too).
 * Without it, jobs parked at a `suspend` statement or by `drain --suspend` would fill the load.
 */
async function review(soak: Soak): Promise<void> {
  const { rows } = await soak.project.pool.query<{ id: string }>(
    "SELECT id FROM jobs WHERE status = 'suspended' AND updated_at < now() - interval '3 seconds' ORDER BY updated_at LIMIT 20",
  );
  for (const r of rows) {
    if (soak.reserved.has(r.id)) continue;
    await withTransaction(soak.project.pool, (c) => controlJob(c, r.id, "resume", "operator chaos-review")).catch(() => undefined);
  }
}
