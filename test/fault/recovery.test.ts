// Recovery at scale: a worker running 2,000 jobs is killed (-9). The two live workers claim the
// orphaned jobs in batches no larger than RUNBOOK_CLAIM_BATCH, each only in the slots it owns, and
// both take part: no thundering herd of claims on the database.
import { afterAll, beforeAll, expect, it } from "vitest";
import { assignSlots } from "../../runtime/slots.js";
import { Cluster, waitFor } from "./harness.js";

const JOBS = 2_000;
const BATCH = 100;

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create();
  const recover = { concurrency: 50, env: { RUNBOOK_CLAIM_BATCH: String(BATCH) } };
  await Promise.all([
    // Every step hangs on s0 (LEDGER_BLOCK): all its jobs are in flight when it dies.
    c.startWorker("s0", { concurrency: JOBS, env: { LEDGER_BLOCK: "1", RUNBOOK_CLAIM_BATCH: "500" } }),
    c.startWorker("s1", recover),
    c.startWorker("s2", recover),
  ]);
}, 180_000);
afterAll(async () => {
  await c?.destroy();
});

it("claims thousands of orphaned jobs in bounded batches spread over the live workers by slot", async () => {
  expect((await c.cli(["deploy", "--workers", "s0"])).code).toBe(0);
  const ids = await c.enqueue("steps", { n: 1, ms: 0 }, JOBS);
  await waitFor(`s0 running all ${JOBS} jobs`, async () => {
    const { rows } = await c.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ledger WHERE worker = 's0'");
    return rows[0].n === JOBS;
  }, 120_000, 200);
  // The others join the deployment; s0 keeps its jobs (no checkpoint to hand over at) and dies.
  expect((await c.cli(["deploy", "--workers", "s0,s1,s2"])).code).toBe(0);
  const killedAt = await c.crash("s0");
  await c.waitAll(ids, "completed", 180_000);
  const recoveredMs = Date.now() - killedAt;

  const { rows } = await c.db.pool.query<{ job_id: string; worker: string; at: Date; slot: number }>(
    `SELECT h.job_id, h.worker, h.at, j.slot FROM job_history h JOIN jobs j ON j.id = h.job_id
     WHERE h.reason = 'lease of s0 expired; resumed from the latest checkpoint'`,
  );
  expect(rows).toHaveLength(JOBS);
  // One claim statement = one transaction = one `at`: the batches.
  const batches = new Map<string, number>();
  for (const r of rows) batches.set(`${r.worker} ${r.at.toISOString()}`, (batches.get(`${r.worker} ${r.at.toISOString()}`) ?? 0) + 1);
  const sizes = [...batches.values()];
  expect(Math.max(...sizes)).toBeLessThanOrEqual(BATCH);
  expect(batches.size).toBeGreaterThanOrEqual(JOBS / BATCH);
  const byWorker = new Map<string, number>();
  for (const r of rows) byWorker.set(r.worker, (byWorker.get(r.worker) ?? 0) + 1);
  expect([...byWorker.keys()].sort()).toEqual(["s1", "s2"]);
  for (const n of byWorker.values()) expect(n).toBeGreaterThan(JOBS / 4);
  // Each job recovered by the owner of its slot.
  const owners = assignSlots(c.db.slotCount, ["s1", "s2"]);
  expect(rows.filter((r) => owners[r.slot] !== r.worker)).toEqual([]);
  // The job ran once more, from its (only) step, on the new owner.
  const { rows: again } = await c.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ledger WHERE worker <> 's0' AND ended_at IS NOT NULL");
  expect(again[0].n).toBe(JOBS);
  // Naming a dead worker and an unknown one: said on stderr, so a typo does not go unnoticed.
  const typo = await c.cli(["deploy", "--workers", "s0,s9"]);
  expect(typo.stderr).toBe(
    "warning: s0 is not a live worker (dead); it owns no slots until `runbook worker --name s0` runs\n" +
      "warning: s9 is not a live worker (never seen); it owns no slots until `runbook worker --name s9` runs\n" +
      "warning: no worker of this deployment is alive: no job runs until one starts\n",
  );
  console.log(`recovered ${JOBS} jobs of a killed worker in ${recoveredMs} ms from the kill; ${batches.size} claim batches (max ${Math.max(...sizes)}), ${[...byWorker].map(([w, n]) => `${w} ${n}`).join(", ")}`);
});
