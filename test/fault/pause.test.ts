// SIGSTOP past the lease, then SIGCONT: the paused worker comes back believing it still runs the
// job. Its writes for the job must be refused, the job must complete once on the new owner, and
// the ledger must show no step of the old lease started after the takeover.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, TIMEOUT_MS, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create();
  await Promise.all([c.startWorker("p1"), c.startWorker("p2")]);
});
afterAll(async () => {
  await c?.destroy();
});

it("a worker paused past its lease writes nothing for the job once it is taken over", async () => {
  const n = 5;
  const [id] = await c.enqueue("pairs", { n, ms: 400 });
  // Pause the worker in the middle of a call: the first call of pair 2, well under way.
  const open = await waitFor(
    "pair 2 under way",
    async () => (await c.ledger(id)).find((r) => r.step === 2 && r.part === "a" && !r.ended_at && Date.now() - r.started_at.getTime() > 100),
    20_000,
    20,
  );
  const paused = open.worker;
  const other = paused === "p1" ? "p2" : "p1";
  c.signal(paused, "SIGSTOP");
  try {
    // The other worker takes the job over once the lease expires.
    await waitFor("the takeover", async () => (await c.ledger(id)).some((r) => r.worker === other), TIMEOUT_MS + 10_000);
  } finally {
    c.signal(paused, "SIGCONT");
  }
  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 20_000);

  const history = await c.history(id);
  // The first claim by the other worker after the pause (at start-up, before both workers had
  // joined the deployment, the other one may have claimed and handed the job over already).
  const takeover = history.find((h) => h.worker === other && h.to_status === "running" && h.at > open.started_at);
  expect(takeover?.reason).toBe(`lease of ${paused} expired; resumed from the latest checkpoint`);
  const ledger = await c.ledger(id);
  const old = ledger.filter((r) => r.epoch === open.epoch);
  // The call in flight at the pause finishes after SIGCONT (a paused process cannot be stopped
  // mid-call), but nothing of the old lease starts after the takeover.
  expect(old.filter((r) => r.started_at > takeover!.at)).toEqual([]);
  // Completed exactly once. (The paused worker, alive again, may win the job's slot back and
  // claim it anew, under a new epoch: that is a fresh claim, not its old lease.)
  expect(history.filter((h) => h.to_status === "completed")).toHaveLength(1);
  const after = history.filter((h) => h.at > takeover!.at && h.worker === paused);
  if (after.length) expect(after[0]).toMatchObject({ from_status: "queued", reason: "claimed" });
  const newEpoch = ledger.find((r) => r.worker === other)!.epoch;
  expect(ledger.filter((r) => r.started_at > takeover!.at && r.worker === paused && r.epoch <= newEpoch)).toEqual([]);
  // Its stream writes were refused: every pair's output once, in order.
  expect(await c.outputs(id)).toEqual(Array.from({ length: n }, (_, i) => `pair ${i + 1}`));
  // Pairs before the latest checkpoint at the takeover were not redone.
  const resumedAt = ledger.find((r) => r.worker === other)!.step;
  for (let s = 1; s < resumedAt; s++) expect(ledger.filter((r) => r.step === s && r.part === "a").length, `pair ${s}`).toBe(1);
  // The paused worker notices on its first write (or heartbeat) and gives the job up.
  await waitFor("the paused worker to notice", async () => /lost the lease of job/.test(c.worker(paused).stderr), 5_000);
});
