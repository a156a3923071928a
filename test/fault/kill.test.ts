// kill -9 of the worker running a checkpointed job: the job completes on the other worker,
// every step before its latest checkpoint is in the ledger exactly once, and it was taken over
// once the dead worker's lease expired. The job is held inside step 4 at a gate when the worker
// dies, so the checkpoint it resumes from is known.
import { randomUUID } from "node:crypto";
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
  const id = `kill-${randomUUID()}`;
  // Held inside step 4, its checkpoint after step 3 committed: crash whoever runs it there.
  await c.closeGates([`${id}:4`]);
  await c.enqueue("steps", { n, ms: 0, gate: id }, [id]);
  await c.reached([`${id}:4`]);
  const victim = (await c.ledger(id)).find((r) => r.step === 4)!.worker;
  const survivor = victim === "k1" ? "k2" : "k1";
  const { rows } = await c.db.pool.query<{ checkpoints: number; status: string }>("SELECT checkpoints, status FROM jobs WHERE id = $1", [id]);
  expect(rows[0]).toEqual({ checkpoints: 3, status: "running" }); // steps 1..3 are committed
  const checkpointed = rows[0].checkpoints;
  const killedAt = await c.crash(victim);
  // The dead worker renews nothing more: its lease ends at this due_at.
  const { rows: lease } = await c.db.pool.query<{ due_at: Date }>("SELECT due_at FROM jobs WHERE id = $1", [id]);

  // The survivor takes it over once the lease has expired, and redoes step 4 (at the gate).
  await c.reached([`${id}:4`], 2, TIMEOUT_MS + 60_000);
  await c.openGates([`${id}:4`]);
  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 60_000);
  const ledger = await c.ledger(id);
  const before = ledger.filter((r) => r.worker === victim);
  const after = ledger.filter((r) => r.worker === survivor);
  expect(after.length).toBeGreaterThan(0);
  // Resumed from the latest checkpoint: the first step on the survivor is the one after it.
  expect(after[0].step).toBe(checkpointed + 1);
  const counts = finishedCounts(ledger);
  for (let s = 1; s <= n; s++) expect(counts.get(s), `step ${s}`).toBe(1);
  for (let s = checkpointed + 1; s <= n; s++) expect(after.filter((r) => r.step === s && r.ended_at).length, `step ${s} on ${survivor}`).toBe(1);
  // The victim died inside step 4 (never finished) and began nothing after it.
  expect(before.map((r) => [r.step, r.ended_at])).toEqual([[1, expect.any(Date)], [2, expect.any(Date)], [3, expect.any(Date)], [4, null]]);
  expect(new Set(after.map((r) => r.epoch)).size).toBe(1);
  expect(after[0].epoch).toBeGreaterThan(before[0].epoch);
  expect(overlaps(ledger.filter((r) => r.ended_at))).toEqual([]);
  // Outputs exactly once, in order, across the crash.
  expect(await c.outputs(id)).toEqual(Array.from({ length: n }, (_, i) => `step ${i + 1}`));

  // Taken over only once the dead worker's lease had expired (the claim is fenced by due_at).
  const history = await c.history(id);
  const takeover = history.find((h) => h.worker === survivor && h.reason === `lease of ${victim} expired; resumed from the latest checkpoint`);
  expect(takeover).toBeDefined();
  expect(takeover!.at.getTime()).toBeGreaterThanOrEqual(lease[0].due_at.getTime());
  console.log(`kill -9 -> taken over after ${takeover!.at.getTime() - killedAt} ms (timeout ${TIMEOUT_MS} ms)`);
  // What an operator sees: the victim dead, owning no slots, holding nothing.
  expect((await c.cli(["workers"])).stdout).toMatch(new RegExp(`^${victim}\\s+dead\\s+\\S+\\s+0\\s+0\\s`, "m"));
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
