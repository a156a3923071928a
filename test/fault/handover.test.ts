// A job whose slot moved (a redeploy) and that reaches no checkpoint within the handover timeout
// is interrupted and released from its latest checkpoint. Its call in flight may ignore the
// interruption (`stubborn`): the job must still never run on the old and the new owner at once.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, overlaps, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create();
  const env = { RUNBOOK_HANDOVER_TIMEOUT_MS: "800" };
  await Promise.all([c.startWorker("h1", { env }), c.startWorker("h2", { env })]);
  await c.settle(["h1", "h2"]);
});
afterAll(async () => {
  await c?.destroy();
});

it("a job released after the handover timeout does not start on its new owner while its old call still runs", async () => {
  const [id] = await c.idsOwnedBy("h1", ["h1", "h2"], 1, "handover");
  await c.enqueue("unbroken", { n: 2, ms: 2_500, stubborn: true }, [id]);
  await waitFor("h1 running it", async () => (await c.ledger(id)).some((r) => r.worker === "h1"), 20_000);
  expect((await c.cli(["deploy", "--workers", "h2"])).code).toBe(0);
  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 30_000);
  const rows = await c.ledger(id);
  const moved = rows.find((r) => r.worker === "h2")!;
  expect(moved.step).toBe(1); // no checkpoint: from its beginning
  expect(overlaps(rows)).toEqual([]);
  const history = await c.history(id);
  expect(history.some((h) => h.worker === "h1" && /^interrupted: slot \d+ moved to another worker and the job reached no checkpoint in 800 ms$/.test(h.reason))).toBe(true);
});
