// Online redeploy under load: 200 jobs of 10 checkpointed steps on 3 workers, redeployed to 2
// workers and then to 4 while they run, then one of them drained. Every job completes, no job runs on two workers at once
// (per job, the ledger intervals of different leases never interleave), and no step before a
// committed checkpoint is done again.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, badResumes, finishedCounts, overlaps, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create();
  await Promise.all(["r1", "r2", "r3"].map((n) => c.startWorker(n)));
  expect((await c.cli(["deploy", "--workers", "r1,r2,r3"])).code).toBe(0);
  // Started after the explicit deployment: it owns nothing until a deploy names it.
  await c.startWorker("r4");
});
afterAll(async () => {
  await c?.destroy();
});

async function completed(ids: string[]): Promise<number> {
  const { rows } = await c.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = 'completed'", [ids]);
  return rows[0].n;
}

it("redeploys 3 -> 2 -> 4 workers and drains one while 200 jobs run: all complete, none twice at once, no step redone", async () => {
  const n = 10;
  const ids = await c.enqueue("steps", { n, ms: 60 }, 200);
  await waitFor("a quarter done", async () => (await completed(ids)) >= 50, 60_000, 100);
  const to2 = await c.cli(["deploy", "--workers", "r1,r2"]);
  expect(to2.stdout).toMatch(/^deployment generation \d+: r1, r2\n$/);
  const at2 = await completed(ids);
  await waitFor("half done", async () => (await completed(ids)) >= Math.max(100, at2 + 30), 60_000, 100);
  const to4 = await c.cli(["deploy", "--workers", "r1,r2,r3,r4"]);
  expect(to4.stdout).toMatch(/: r1, r2, r3, r4\n$/);
  const at4 = await completed(ids);
  expect(at4).toBeLessThan(200); // the redeploys happened while jobs ran
  // And a drain under load: r1's running jobs hand over, its prefetched ones go back at once.
  const drained = await c.cli(["drain", "r1", "--timeout", "10s"]);
  expect(drained.code).toBe(0);
  expect(await c.worker("r1").exited).toBe(0);
  await c.waitAll(ids, "completed", 90_000);

  const ledger = await c.ledger();
  // Nothing before a committed checkpoint redone: with no crash, every step ran exactly once.
  const byJob = new Map<string, typeof ledger>();
  for (const r of ledger) byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
  expect(byJob.size).toBe(200);
  for (const [job, rows] of byJob) {
    const counts = finishedCounts(rows);
    for (let s = 1; s <= n; s++) expect(counts.get(s), `${job} step ${s}`).toBe(1);
    expect(rows).toHaveLength(n);
  }
  // Never on two workers at once; every handover resumed right after the step it ended at.
  expect(overlaps(ledger)).toEqual([]);
  expect(badResumes(ledger)).toEqual([]);
  // The redeploys moved jobs mid-run (handed over at a checkpoint), and r4 took part.
  const moved = [...byJob.values()].filter((rows) => new Set(rows.map((r) => r.worker)).size > 1);
  expect(moved.length).toBeGreaterThan(0);
  expect(ledger.some((r) => r.worker === "r4")).toBe(true);
  const { rows: handovers } = await c.db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM job_history WHERE job_id = ANY($1) AND reason ~ '^slot \\d+ moved to another worker$'",
    [ids],
  );
  expect(handovers[0].n).toBeGreaterThan(0);
  // Each output once, in order.
  for (const id of ids.slice(0, 20)) expect(await c.outputs(id)).toEqual(Array.from({ length: n }, (_, i) => `step ${i + 1}`));
  console.log(`redeploy: ${moved.length} of 200 jobs moved between workers; ${handovers[0].n} handovers at a checkpoint; ${200 - at4} jobs left at the last redeploy, then r1 drained (${drained.stdout.split("\n")[0]})`);
});
