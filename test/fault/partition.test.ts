// A network partition between a worker and PostgreSQL (a TCP proxy the test cuts), longer than
// the lease: the job moves to the other worker and completes there once; the cut-off worker
// writes nothing more for it (nothing of its lease starts after the takeover), survives the
// partition, and runs jobs again once healed. The job is held at a gate inside step 3 on the
// cut-off worker until the other one has taken it over, so the partition always outlasts the lease.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, TIMEOUT_MS, waitFor } from "./harness.js";
import { Proxy } from "./proxy.js";

let c: Cluster;
let proxy: Proxy;
beforeAll(async () => {
  c = await Cluster.create();
  const p = await Proxy.start(c.url);
  proxy = p.proxy;
  await Promise.all([c.startWorker("n1", { env: { DATABASE_URL: p.url, LEDGER_URL: c.url } }), c.startWorker("n2")]);
  await c.settle(["n1", "n2"]);
});
afterAll(async () => {
  await proxy?.close();
  await c?.destroy();
});

it("a worker cut off from the database past its lease loses the job to the other, and works again once healed", async () => {
  const n = 8;
  const [id] = await c.idsOwnedBy("n1", ["n1", "n2"], 1, "partition");
  // Held inside step 3 on n1 (its checkpoint after step 2 committed) while the network is cut.
  await c.closeGates([`${id}:3`]);
  await c.enqueue("steps", { n, ms: 0, gate: id }, [id]);
  await c.reached([`${id}:3`]);
  const second = (await c.ledger(id)).find((r) => r.step === 2 && r.worker === "n1" && r.ended_at)!;
  expect(second).toBeDefined();
  proxy.partition();
  try {
    // n2 takes it over once n1's lease expires, and redoes step 3 (at the gate).
    await c.reached([`${id}:3`], 2, TIMEOUT_MS + 60_000);
    // Still cut off, n1's call returns: what it writes next for the job goes nowhere now, and is
    // refused once the network heals.
    await c.openGates([`${id}:3`]);
    await waitFor("n1's step 3 to end", async () => (await c.ledger(id)).some((r) => r.step === 3 && r.worker === "n1" && r.ended_at));
  } finally {
    proxy.heal();
  }
  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 60_000);
  const history = await c.history(id);
  const takeover = history.find((h) => h.worker === "n2" && h.to_status === "running")!;
  expect(takeover.reason).toBe("lease of n1 expired; resumed from the latest checkpoint");
  const ledger = await c.ledger(id);
  expect(ledger.filter((r) => r.epoch === second.epoch && r.started_at > takeover.at)).toEqual([]);
  expect(history.filter((h) => h.to_status === "completed")).toHaveLength(1);
  expect(await c.outputs(id)).toEqual(Array.from({ length: n }, (_, i) => `step ${i + 1}`));
  const resumed = ledger.find((r) => r.worker === "n2")!.step;
  for (let s = 1; s < resumed; s++) expect(ledger.filter((r) => r.step === s && r.ended_at).length, `step ${s}`).toBe(1);

  // n1 survived the partition: alive again (n2 counted it dead meanwhile and has to see it
  // back), it runs a job of its own slots.
  expect(c.worker("n1").exitCode).toBeNull();
  await c.synced(["n1", "n2"]);
  const [again] = await c.idsOwnedBy("n1", ["n1", "n2"], 1, "healed");
  await c.enqueue("steps", { n: 2, ms: 10 }, [again]);
  await waitFor("n1 to run again", async () => (await c.status([again])).get(again) === "completed", 60_000);
  expect(new Set((await c.ledger(again)).map((r) => r.worker))).toEqual(new Set(["n1"]));
});

// The worker's own sessions carry idle_in_transaction_session_timeout (test/runtime/connect.test.ts
// checks openDb's settings); a runbook's sql() runs on a connection of its own, which does not
// (runtime/builtins/sql-connections.ts), so it can no longer show the worker's setting here.
it("a runbook's sql() does not run on the worker's sessions", async () => {
  const [id] = await c.enqueue("setting", { name: "idle_in_transaction_session_timeout" });
  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 60_000);
  const { rows } = await c.db.pool.query<{ result: string }>("SELECT result FROM jobs WHERE id = $1", [id]);
  expect(rows[0].result).toBe("0");
});
