// SIGSTOP past the lease, then SIGCONT: the paused worker comes back believing it still runs the
// job. Its writes for the job must be refused, the job must complete once on the new owner, and
// the ledger must show no step of the old lease started after the takeover. The job is held at a
// gate inside pair 2 while its worker is paused, and the gate opens only once the other worker
// has taken it over, so the pause always outlasts the lease.
import { randomUUID } from "node:crypto";
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
  // Pause the worker in the middle of a call: the first call of pair 2, held at a gate.
  const id = `pause-${randomUUID()}`;
  await c.closeGates([`${id}:2a`]);
  await c.enqueue("pairs", { n, ms: 0, gate: id }, [id]);
  await c.reached([`${id}:2a`]);
  const open = (await c.ledger(id)).find((r) => r.step === 2 && r.part === "a")!;
  const paused = open.worker;
  const other = paused === "p1" ? "p2" : "p1";
  c.signal(paused, "SIGSTOP");
  try {
    // The other worker takes the job over once the lease expires, and redoes pair 2 from the
    // checkpoint after pair 1: it arrives at the gate too. Then the gate opens for both and the
    // paused worker wakes up with its call about to return.
    await c.reached([`${id}:2a`], 2, TIMEOUT_MS + 60_000);
    await c.openGates([`${id}:2a`]);
  } finally {
    c.signal(paused, "SIGCONT");
  }
  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 60_000);

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
  await c.said(paused, /lost the lease of job/);
});
