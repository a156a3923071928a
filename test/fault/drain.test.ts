// Drain, SIGTERM and a second SIGINT on real worker processes:
// - `runbook drain` hands a worker's jobs to the others at their next checkpoint; a job with no
//   checkpoint is interrupted at the timeout and restarts from its beginning elsewhere;
//   `runbook workers` shows the worker draining with the jobs it still holds; it exits 0;
// - with --suspend the jobs stay suspended until `runbook resume`;
// - SIGTERM drains the same way; a second SIGINT exits at once, leaving the lease to expire.
// The scenarios run in order on one cluster: each drains one more of the workers d1..d5 (d6
// stays). Jobs are held at gates (fixtures/ledger.ts) while the test acts, so every drain lands
// at a known step whatever the machine's speed; the drain timeouts that must not run out while
// the test acts are a minute long, and leases 10 s (only the last scenario waits for one to expire).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, LONG_TIMEOUT_MS, finishedCounts, overlaps, waitFor, type LedgerRow } from "./harness.js";

let c: Cluster;
let alive = ["d1", "d2", "d3", "d4", "d5", "d6"];
beforeAll(async () => {
  c = await Cluster.create(undefined, { timeoutMs: LONG_TIMEOUT_MS });
  await Promise.all(alive.map((n) => c.startWorker(n)));
  await c.settle(alive);
});
afterAll(async () => {
  await c?.destroy();
});

/** Ledger rows of the job once each step 1..n finished exactly once, none on two workers at once. */
async function exactlyOnce(id: string, n: number): Promise<LedgerRow[]> {
  const rows = await c.ledger(id);
  const counts = finishedCounts(rows);
  for (let s = 1; s <= n; s++) expect(counts.get(s), `${id} step ${s}`).toBe(1);
  expect(rows.filter((r) => !r.aborted)).toHaveLength(n);
  expect(overlaps(rows)).toEqual([]);
  return rows;
}

async function draining(name: string): Promise<boolean> {
  const { rows } = await c.db.pool.query<{ draining: boolean }>("SELECT draining FROM workers WHERE name = $1", [name]);
  return rows[0]?.draining === true;
}

/** Which worker ran each step, in step order. */
const workersOf = (rows: LedgerRow[]) => rows.filter((r) => !r.aborted).sort((a, b) => a.step - b.step).map((r) => r.worker);

describe("drain", () => {
  it("hands jobs over at their next checkpoint, shows the worker draining with the jobs it holds, exits 0", async () => {
    const ids = await c.idsOwnedBy("d1", alive, 2, "drain");
    // Both held inside step 3, their checkpoint after step 2 committed.
    await c.closeGates(ids.map((id) => `${id}:3`));
    for (const id of ids) await c.enqueue("steps", { n: 6, ms: 0, gate: id }, [id]);
    await c.reached(ids.map((id) => `${id}:3`));

    const drain = c.cli(["drain", "d1", "--timeout", "60s"]);
    await c.said("d1", /worker d1 is draining: claiming nothing more/);
    expect(await draining("d1")).toBe(true);
    const shown = await c.cli(["workers"]);
    // NAME STATE HEARTBEAT SLOTS RUNNING: draining, no slots, both jobs still held.
    expect(shown.stdout).toMatch(/^d1\s+draining\s+\S+\s+0\s+2\s/m);
    await c.openGates(ids.map((id) => `${id}:3`));
    const ran = await drain;
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^draining d1: 2 running jobs hand over at their next checkpoint \(timeout 60s\)\nd1 has drained and stopped\n$/);
    expect(await c.worker("d1").exited).toBe(0);
    alive = alive.filter((n) => n !== "d1");

    await c.waitAll(ids, "completed");
    for (const id of ids) {
      const rows = await exactlyOnce(id, 6);
      // Steps 1-3 on d1 (3 finished there once its gate opened), the rest elsewhere.
      const ran = workersOf(rows);
      expect(ran.slice(0, 3)).toEqual(["d1", "d1", "d1"]);
      expect(ran.slice(3).every((w) => w !== "d1")).toBe(true);
      const history = await c.history(id);
      expect(history.some((h) => h.worker === "d1" && h.from_status === "running" && h.to_status === "queued" && h.reason === "worker d1 is draining")).toBe(true);
    }
  });

  it("interrupts a job that reaches no checkpoint by the drain timeout; it runs again from its beginning elsewhere", async () => {
    const [id] = await c.idsOwnedBy("d2", alive, 1, "timeout");
    // Held in step 1, with no checkpoint at all, until the test opens the gate.
    await c.closeGates([`${id}:1`]);
    await c.enqueue("unbroken", { n: 2, ms: 0, gate: id }, [id]);
    await c.reached([`${id}:1`]);
    const drainedAt = Date.now();
    const ran = await c.cli(["drain", "d2", "--timeout", "3s"]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^draining d2: 1 running job hands? over at (its|their) next checkpoint \(timeout 3s\)\nd2 has drained and stopped\n$/);
    expect(await c.worker("d2").exited).toBe(0);
    alive = alive.filter((n) => n !== "d2");
    // Interrupted at the timeout: its call ended aborted, then it began again elsewhere at the gate.
    await c.reached([`${id}:1`], 2);
    await c.openGates([`${id}:1`]);
    await c.waitAll([id], "completed");

    const rows = await c.ledger(id);
    expect(rows.filter((r) => r.worker === "d2").map((r) => [r.step, r.aborted])).toEqual([[1, true]]);
    const first = rows.find((r) => r.worker !== "d2")!;
    expect(first.step).toBe(1);
    expect(first.started_at.getTime() - drainedAt).toBeGreaterThanOrEqual(3_000);
    expect(finishedCounts(rows.filter((r) => r.worker === first.worker))).toEqual(new Map([[1, 1], [2, 1]]));
    expect(overlaps(rows)).toEqual([]);
    const history = await c.history(id);
    expect(history.some((h) => h.worker === "d2" && /^interrupted: worker d2 was draining and the job reached no checkpoint in time$/.test(h.reason))).toBe(true);
  });

  it("--suspend leaves the jobs suspended until `runbook resume`", async () => {
    const ids = await c.idsOwnedBy("d3", alive, 2, "suspend");
    await c.closeGates(ids.map((id) => `${id}:3`));
    for (const id of ids) await c.enqueue("steps", { n: 5, ms: 0, gate: id }, [id]);
    await c.reached(ids.map((id) => `${id}:3`));
    const drain = c.cli(["drain", "d3", "--suspend", "--timeout", "60s"]);
    await c.said("d3", /worker d3 is draining/);
    await c.openGates(ids.map((id) => `${id}:3`));
    const ran = await drain;
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/suspend at their next checkpoint/);
    expect(await c.worker("d3").exited).toBe(0);
    alive = alive.filter((n) => n !== "d3");
    expect([...(await c.status(ids)).values()]).toEqual(["suspended", "suspended"]);
    // Nobody picks them up: after two heartbeats of every live worker (each one claims in
    // between) they are still suspended, with only the steps done on d3.
    await c.synced(alive);
    expect([...(await c.status(ids)).values()]).toEqual(["suspended", "suspended"]);
    expect((await c.ledger()).filter((r) => ids.includes(r.job)).map((r) => r.worker)).toEqual(Array(6).fill("d3"));

    for (const id of ids) expect((await c.cli(["resume", id])).code).toBe(0);
    await c.waitAll(ids, "completed");
    for (const id of ids) {
      const rows = await exactlyOnce(id, 5);
      const ran = workersOf(rows);
      expect(ran.slice(0, 3)).toEqual(["d3", "d3", "d3"]);
      expect(ran.slice(3).every((w) => w !== "d3")).toBe(true);
      const history = await c.history(id);
      expect(history.some((h) => h.to_status === "suspended" && h.reason === "worker d3 is draining")).toBe(true);
    }
  });

  it("SIGTERM drains the same way: draining at once, handed-over jobs go on elsewhere while a long step finishes, exit 0", async () => {
    const [s1, s2, u1] = await c.idsOwnedBy("d4", alive, 3, "term");
    const ids = [s1, s2];
    // s1 and s2 held in step 3; u1's only step (the long one) held until the very end.
    await c.closeGates([`${s1}:3`, `${s2}:3`, `${u1}:1`]);
    for (const id of ids) await c.enqueue("steps", { n: 5, ms: 0, gate: id }, [id]);
    await c.enqueue("unbroken", { n: 1, ms: 0, gate: u1 }, [u1]);
    await c.reached([`${s1}:3`, `${s2}:3`, `${u1}:1`]);
    c.signal("d4", "SIGTERM");
    await c.said("d4", /SIGTERM: claiming nothing more; running jobs hand over at their next checkpoint/);
    // Others see it draining (it owns no slots any more) while it still runs the long step.
    await waitFor("d4 draining", () => draining("d4"));
    await c.openGates([`${s1}:3`, `${s2}:3`]);
    // The handed-over jobs complete elsewhere while the long step is still held on d4: they did
    // not wait for it.
    await c.waitAll(ids, "completed");
    expect(await c.db.pool.query("SELECT status, worker FROM jobs WHERE id = $1", [u1]).then((r) => r.rows[0])).toEqual({ status: "running", worker: "d4" });
    expect(c.worker("d4").exitCode).toBeNull();
    for (const id of ids) {
      const rows = await exactlyOnce(id, 5);
      const ran = workersOf(rows);
      expect(ran.slice(0, 3)).toEqual(["d4", "d4", "d4"]);
      expect(ran.slice(3).every((w) => w !== "d4")).toBe(true);
      expect((await c.history(id)).some((h) => h.to_status === "queued" && h.reason === "worker d4 is stopping")).toBe(true);
    }
    await c.openGates([`${u1}:1`]);
    expect(await c.worker("d4").exited).toBe(0);
    alive = alive.filter((n) => n !== "d4");
    await c.waitAll([u1], "completed");
    expect((await c.ledger(u1)).map((r) => r.worker)).toEqual(["d4"]); // finished where it ran
  });

  it("a second SIGINT exits at once; the job resumes elsewhere when its lease expires", async () => {
    const [id] = await c.idsOwnedBy("d5", alive, 1, "int");
    await c.closeGates([`${id}:1`]);
    await c.enqueue("unbroken", { n: 2, ms: 0, gate: id }, [id]);
    await c.reached([`${id}:1`]);
    c.signal("d5", "SIGINT");
    await c.said("d5", /SIGINT: claiming nothing more/);
    const second = Date.now();
    c.signal("d5", "SIGINT");
    // Exits with the job still held at its gate: it did not wait for the job (the first SIGINT's
    // drain would wait up to 10 minutes for it).
    expect(await c.worker("d5").exited).toBe(130);
    expect(c.worker("d5").stderr).toMatch(/SIGINT again: exiting now/);
    // The lease is left to expire: d5 released nothing, and the next owner took it over from the
    // expired lease, from its beginning (no checkpoint), arriving at the gate again.
    await c.reached([`${id}:1`], 2, c.timeoutMs + 60_000);
    await c.openGates([`${id}:1`]);
    await c.waitAll([id], "completed");
    const history = await c.history(id);
    expect(history.filter((h) => h.worker === "d5" && h.from_status === "running")).toEqual([]);
    const takeover = history.find((h) => h.from_status === "running" && h.to_status === "running")!;
    expect(takeover.reason).toBe("lease of d5 expired; resumed from the latest checkpoint");
    const ledger = await c.ledger(id);
    const resumed = ledger.find((r) => r.worker !== "d5")!;
    expect(resumed.step).toBe(1); // no checkpoint: from its beginning
    expect(resumed.started_at.getTime() - second).toBeGreaterThanOrEqual(c.timeoutMs - 1_000);
    expect(overlaps(ledger.filter((r) => r.worker !== "d5"))).toEqual([]);
  });
});
