// kill -9 under load: 150 jobs of 10 checkpointed steps on 3 workers, one worker killed
// mid-run. Every job completes; every takeover resumes at the killed lease's last step or the
// one after (never redoing a step whose checkpoint committed, never skipping one); finished
// steps of one job never overlap on two leases.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, badResumes, overlaps, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create();
  await Promise.all(["c1", "c2", "c3"].map((n) => c.startWorker(n)));
  await c.settle(["c1", "c2", "c3"]);
});
afterAll(async () => {
  await c?.destroy();
});

it("a worker killed under load: its jobs resume elsewhere from their checkpoints, all complete", async () => {
  const n = 10;
  const ids = await c.enqueue("steps", { n, ms: 60 }, 150);
  await waitFor("c2 well under way", async () => {
    const { rows } = await c.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ledger WHERE worker = 'c2' AND ended_at IS NOT NULL");
    return rows[0].n >= 100;
  }, 60_000, 50);
  await c.crash("c2");
  await c.waitAll(ids, "completed", 90_000);

  const ledger = await c.ledger();
  const victims = new Set(ledger.filter((r) => r.worker === "c2").map((r) => r.job));
  const resumed = [...victims].filter((job) => ledger.some((r) => r.job === job && r.worker !== "c2" && r.started_at > ledger.filter((x) => x.job === job && x.worker === "c2").at(-1)!.started_at));
  expect(resumed.length).toBeGreaterThan(0); // c2 held jobs mid-run when it died
  expect(badResumes(ledger)).toEqual([]);
  // Every step of every job finished at least once; a second time only right at a takeover.
  for (const job of ids) {
    const rows = ledger.filter((r) => r.job === job && r.ended_at);
    for (let s = 1; s <= n; s++) {
      const times = rows.filter((r) => r.step === s).length;
      expect(times, `${job} step ${s}`).toBeGreaterThanOrEqual(1);
      expect(times, `${job} step ${s}`).toBeLessThanOrEqual(victims.has(job) ? 2 : 1);
    }
  }
  expect(overlaps(ledger.filter((r) => r.ended_at))).toEqual([]);
  // Outputs exactly once, in order, even for the jobs that were cut off mid-step.
  for (const job of resumed.slice(0, 20)) expect(await c.outputs(job)).toEqual(Array.from({ length: n }, (_, i) => `step ${i + 1}`));
  console.log(`crash under load: ${resumed.length} jobs resumed from c2's checkpoints`);
});
