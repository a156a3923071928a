// Online redeploy under load: 200 jobs of 10 checkpointed steps on 3 workers, redeployed to 2
// workers and then to 4 while they run, then one of them drained. Every job completes, no job runs
// on two workers at once (per job, the ledger intervals of different leases never interleave),
// no step before a committed checkpoint is done again, and each job hands over at the checkpoint
// right after each change, to the owner of its slot.
//
// All 200 jobs run at once (concurrency 250 per worker) and are held together at a gate before
// each change: in step 4 for the redeploy to 2, in step 7 for the one to 4, in step 9 for the
// drain. Each change is made, every worker has heard of it (two heartbeats each), and only then
// does the gate open: so every change lands mid-run, at a known step, whatever the machine's speed.
import { afterAll, beforeAll, expect, it } from "vitest";
import { assignSlots } from "../../runtime/slots.js";
import { Cluster, LONG_TIMEOUT_MS, badResumes, finishedCounts, overlaps } from "./harness.js";

const JOBS = 200;
const STEPS = 10;
const GATES = ["wave:4", "wave:7", "wave:9"];
let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create(undefined, { timeoutMs: LONG_TIMEOUT_MS });
  await Promise.all(["r1", "r2", "r3"].map((n) => c.startWorker(n, { concurrency: 250 })));
  expect((await c.cli(["deploy", "--workers", "r1,r2,r3"])).code).toBe(0);
  // Started after the explicit deployment: it owns nothing until a deploy names it.
  await c.startWorker("r4", { concurrency: 250 });
  await c.synced(["r1", "r2", "r3", "r4"]);
});
afterAll(async () => {
  await c?.destroy();
});

async function completed(ids: string[]): Promise<number> {
  const { rows } = await c.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = 'completed'", [ids]);
  return rows[0].n;
}

it("redeploys 3 -> 2 -> 4 workers and drains one while 200 jobs run: all complete, none twice at once, no step redone", async () => {
  await c.closeGates(GATES);
  const ids = await c.enqueue("steps", { n: STEPS, ms: 0, gate: "wave" }, JOBS);
  await c.reached(["wave:4"], JOBS, 120_000);

  const to2 = await c.cli(["deploy", "--workers", "r1,r2"]);
  expect(to2.stdout).toMatch(/^deployment generation \d+: r1, r2\n$/);
  await c.synced(["r1", "r2", "r3", "r4"]);
  await c.openGates(["wave:4"]);
  await c.reached(["wave:7"], JOBS, 120_000);

  const to4 = await c.cli(["deploy", "--workers", "r1,r2,r3,r4"]);
  expect(to4.stdout).toMatch(/: r1, r2, r3, r4\n$/);
  await c.synced(["r1", "r2", "r3", "r4"]);
  expect(await completed(ids)).toBe(0); // the redeploys happened while every job ran
  await c.openGates(["wave:7"]);
  await c.reached(["wave:9"], JOBS, 120_000);

  // And a drain under load: r1's running jobs hand over at their next checkpoint.
  const drain = c.cli(["drain", "r1", "--timeout", "60s"]);
  await c.said("r1", /worker r1 is draining/);
  await c.synced(["r2", "r3", "r4"]);
  await c.openGates(["wave:9"]);
  const drained = await drain;
  expect(drained.code).toBe(0);
  expect(await c.worker("r1").exited).toBe(0);
  await c.waitAll(ids, "completed", 120_000);

  const ledger = await c.ledger();
  // Nothing before a committed checkpoint redone: with no crash, every step ran exactly once.
  const byJob = new Map<string, typeof ledger>();
  for (const r of ledger) byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
  expect(byJob.size).toBe(JOBS);
  for (const [job, rows] of byJob) {
    const counts = finishedCounts(rows);
    for (let s = 1; s <= STEPS; s++) expect(counts.get(s), `${job} step ${s}`).toBe(1);
    expect(rows).toHaveLength(STEPS);
  }
  // Never on two workers at once; every handover resumed right after the step it ended at.
  expect(overlaps(ledger)).toEqual([]);
  expect(badResumes(ledger)).toEqual([]);
  // Each step ran on the owner of the job's slot in the deployment of its wave: each change
  // moved the job (if its slot moved) at the checkpoint right after the gate it was held at.
  const { rows: slots } = await c.db.pool.query<{ id: string; slot: number }>("SELECT id, slot FROM jobs WHERE id = ANY($1)", [ids]);
  const waves = [["r1", "r2", "r3"], ["r1", "r2"], ["r1", "r2", "r3", "r4"], ["r2", "r3", "r4"]].map((w) => assignSlots(c.db.slotCount, w));
  const waveOf = (step: number) => (step <= 4 ? 0 : step <= 7 ? 1 : step <= 9 ? 2 : 3);
  let moves = 0;
  for (const { id, slot } of slots) {
    const ran = byJob.get(id)!.sort((a, b) => a.step - b.step).map((r) => r.worker);
    expect(ran, id).toEqual(Array.from({ length: STEPS }, (_, i) => waves[waveOf(i + 1)][slot]));
    for (let w = 1; w < waves.length; w++) if (waves[w][slot] !== waves[w - 1][slot]) moves++;
  }
  expect(moves).toBeGreaterThan(0);
  expect(ledger.some((r) => r.worker === "r4")).toBe(true);
  // One handover in the history per move: at a checkpoint, with the reason of the change.
  const { rows: handovers } = await c.db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM job_history WHERE job_id = ANY($1) AND from_status = 'running' AND to_status = 'queued' AND (reason ~ '^slot \\d+ moved to another worker$' OR reason = 'worker r1 is draining')",
    [ids],
  );
  expect(handovers[0].n).toBe(moves);
  // Each output once, in order.
  for (const id of ids.slice(0, 20)) expect(await c.outputs(id)).toEqual(Array.from({ length: STEPS }, (_, i) => `step ${i + 1}`));
  console.log(`redeploy: ${moves} handovers of ${JOBS} jobs at the checkpoints after 3 -> 2 -> 4 workers and a drain (${drained.stdout.split("\n")[0]})`);
});
