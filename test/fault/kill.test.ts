// kill -9 of the worker running a checkpointed job: the job completes on the other worker,
// every step before its latest checkpoint is in the ledger exactly once, and it resumed within
// the heartbeat timeout + 2 s of the kill.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, TIMEOUT_MS, finishedCounts, overlaps, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create();
  await Promise.all([c.startWorker("k1"), c.startWorker("k2")]);
});
afterAll(async () => {
  await c?.destroy();
});

it("a checkpointed job resumes on the other worker after kill -9, from its latest checkpoint", async () => {
  const n = 8;
  const [id] = await c.enqueue("steps", { n, ms: 250 });
  // Let it do three steps, then crash whoever runs it.
  const third = await waitFor("step 3 done", async () => (await c.ledger(id)).find((r) => r.step === 3 && r.ended_at));
  const victim = third.worker;
  const survivor = victim === "k1" ? "k2" : "k1";
  const killedAt = await c.crash(victim);
  // The dead worker's last statements have reached the server by now; its lease holds for
  // another ~2.5 s, so nobody else writes meanwhile.
  await new Promise((r) => setTimeout(r, 200));
  const { rows } = await c.db.pool.query<{ checkpoints: number; status: string }>("SELECT checkpoints, status FROM jobs WHERE id = $1", [id]);
  const checkpointed = rows[0].checkpoints; // steps 1..checkpointed are committed
  expect(rows[0].status).toBe("running");
  expect(checkpointed).toBeGreaterThanOrEqual(3);

  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 20_000);
  const ledger = await c.ledger(id);
  const before = ledger.filter((r) => r.worker === victim);
  const after = ledger.filter((r) => r.worker === survivor);
  expect(after.length).toBeGreaterThan(0);
  // Resumed from the latest checkpoint: the first step on the survivor is the one after it.
  expect(after[0].step).toBe(checkpointed + 1);
  const counts = finishedCounts(ledger);
  for (let s = 1; s <= checkpointed; s++) expect(counts.get(s), `step ${s}`).toBe(1);
  for (let s = checkpointed + 1; s <= n; s++) {
    expect(after.filter((r) => r.step === s && r.ended_at).length, `step ${s} on ${survivor}`).toBe(1);
    // The victim may have begun (even finished) the step after its checkpoint: at least once.
    expect(before.filter((r) => r.step === s).length).toBeLessThanOrEqual(s === checkpointed + 1 ? 1 : 0);
  }
  expect(new Set(after.map((r) => r.epoch)).size).toBe(1);
  expect(after[0].epoch).toBeGreaterThan(before[0].epoch);
  expect(overlaps(ledger.filter((r) => r.ended_at))).toEqual([]);
  // Outputs exactly once, in order, across the crash.
  expect(await c.outputs(id)).toEqual(Array.from({ length: n }, (_, i) => `step ${i + 1}`));

  const resumeMs = after[0].started_at.getTime() - killedAt;
  console.log(`kill -9 -> first resumed step: ${resumeMs} ms (timeout ${TIMEOUT_MS} ms)`);
  expect(resumeMs).toBeLessThanOrEqual(TIMEOUT_MS + 2_000);
  // What an operator sees: the victim dead, owning no slots, holding nothing.
  expect((await c.cli(["workers"])).stdout).toMatch(new RegExp(`^${victim}\\s+dead\\s+\\S+\\s+0\\s+0\\s`, "m"));
  const history = await c.history(id);
  expect(history.some((h) => h.worker === survivor && h.reason === `lease of ${victim} expired; resumed from the latest checkpoint`)).toBe(true);
});

it("refuses a second live worker under a name in use; a crashed worker's name is free again on its host", async () => {
  const [live] = ["k1", "k2"].filter((n) => c.worker(n).exitCode === null);
  const dup = await c.cli(["worker", "--name", live]);
  expect(dup.code).toBe(1);
  expect(dup.stderr).toMatch(new RegExp(`^runbook: a worker named ${live} is already running \\(\\S+:\\d+, heartbeat \\d+\\.\\ds ago\\): give this one another --name, or stop that one first\\n$`));
  // Restarted at once after a crash (as a supervisor does): its row still looks alive, but the
  // process holding the name on this host is gone, so the name is free.
  await c.startWorker("k3");
  await c.crash("k3");
  const again = await c.startWorker("k3");
  expect(again.exitCode).toBeNull();
});
