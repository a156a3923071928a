// kill -9 under load: 150 jobs of 10 checkpointed steps on 3 workers, one worker killed
// mid-run. Every job completes; every takeover resumes at the killed lease's last step (never
// redoing a step whose checkpoint committed, never skipping one); finished steps of one job never
// overlap on two leases. All 150 jobs run at once and are held together at a gate inside step 5
// when the worker dies, so every one of its jobs is cut off mid-run, whatever the machine's speed.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, badResumes, overlaps } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create();
  await Promise.all(["c1", "c2", "c3"].map((n) => c.startWorker(n, { concurrency: 200 })));
  await c.settle(["c1", "c2", "c3"]);
});
afterAll(async () => {
  await c?.destroy();
});

it("a worker killed under load: its jobs resume elsewhere from their checkpoints, all complete", async () => {
  const n = 10;
  await c.closeGates(["crash:5"]);
  const ids = await c.enqueue("steps", { n, ms: 0, gate: "crash" }, 150);
  await c.reached(["crash:5"], ids.length, 120_000);
  await c.crash("c2");
  await c.openGates(["crash:5"]);
  await c.waitAll(ids, "completed", 120_000);

  const ledger = await c.ledger();
  const victims = new Set(ledger.filter((r) => r.worker === "c2").map((r) => r.job));
  expect(victims.size).toBeGreaterThan(0); // c2 held jobs mid-run when it died
  // Every one of them was cut off inside step 5 and resumed elsewhere from the checkpoint after step 4.
  const resumed = [...victims].filter((job) => ledger.some((r) => r.job === job && r.worker !== "c2" && r.step === 5));
  expect(resumed.length).toBe(victims.size);
  for (const job of victims) {
    expect(ledger.filter((r) => r.job === job && r.worker === "c2").map((r) => [r.step, r.ended_at === null])).toEqual([1, 2, 3, 4, 5].map((s) => [s, s === 5]));
  }
  expect(badResumes(ledger)).toEqual([]);
  // Every step of every job finished exactly once (the killed calls never finished).
  for (const job of ids) {
    const rows = ledger.filter((r) => r.job === job && r.ended_at);
    for (let s = 1; s <= n; s++) expect(rows.filter((r) => r.step === s).length, `${job} step ${s}`).toBe(1);
  }
  expect(overlaps(ledger.filter((r) => r.ended_at))).toEqual([]);
  // Outputs exactly once, in order, even for the jobs that were cut off mid-step.
  for (const job of resumed.slice(0, 20)) expect(await c.outputs(job)).toEqual(Array.from({ length: n }, (_, i) => `step ${i + 1}`));
  console.log(`crash under load: ${resumed.length} jobs resumed from c2's checkpoints`);
});
