// A job whose slot moved (a redeploy) and that reaches no checkpoint within the handover timeout
// is interrupted and released from its latest checkpoint. Its call in flight may ignore the
// interruption (`stubborn`): the job must still never run on the old and the new owner at once.
// The call is held at a gate until the test has seen the interruption reach it, so the redeploy
// always lands mid-call; the test then lets the call end well within the time the old owner
// waits for it (min(5 s, the lease timeout): a 10 s lease here, so 5 s).
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, LONG_TIMEOUT_MS, overlaps, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create(undefined, { timeoutMs: LONG_TIMEOUT_MS });
  const env = { RUNBOOK_HANDOVER_TIMEOUT_MS: "800" };
  await Promise.all([c.startWorker("h1", { env }), c.startWorker("h2", { env })]);
  await c.settle(["h1", "h2"]);
});
afterAll(async () => {
  await c?.destroy();
});

it("a job released after the handover timeout does not start on its new owner while its old call still runs", async () => {
  const [id] = await c.idsOwnedBy("h1", ["h1", "h2"], 1, "handover");
  await c.closeGates([`${id}:1`]);
  await c.enqueue("unbroken", { n: 2, ms: 0, stubborn: true, gate: id }, [id]);
  await c.reached([`${id}:1`]);
  expect((await c.ledger(id)).map((r) => r.worker)).toEqual(["h1"]);
  expect((await c.cli(["deploy", "--workers", "h2"])).code).toBe(0);
  // h1 interrupts the job 800 ms after it saw the slot move; the call ignores it and goes on.
  await waitFor("the interruption to reach the call", async () => (await c.ledger(id))[0].abort_seen_at !== null, 60_000);
  // Still h1's while its call runs: h2 has not started it.
  expect(await c.db.pool.query("SELECT status, worker FROM jobs WHERE id = $1", [id]).then((r) => r.rows[0])).toEqual({ status: "running", worker: "h1" });
  expect((await c.ledger(id)).map((r) => r.worker)).toEqual(["h1"]);
  await c.openGates([`${id}:1`]);

  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 60_000);
  const rows = await c.ledger(id);
  const moved = rows.find((r) => r.worker === "h2")!;
  expect(moved.step).toBe(1); // no checkpoint: from its beginning
  expect(overlaps(rows)).toEqual([]);
  expect(moved.started_at.getTime()).toBeGreaterThanOrEqual(rows[0].ended_at!.getTime());
  const history = await c.history(id);
  expect(history.some((h) => h.worker === "h1" && /^interrupted: slot \d+ moved to another worker and the job reached no checkpoint in 800 ms$/.test(h.reason))).toBe(true);
  // Released once the call had ended, not by h1 giving up on it.
  expect(c.worker("h1").stderr).not.toMatch(/released anyway/);
});
