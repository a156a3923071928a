// Drain, SIGTERM and a second SIGINT on real worker processes:
// - `runbook drain` hands a worker's jobs to the others at their next checkpoint; a job with no
//   checkpoint is interrupted at the timeout and restarts from its beginning elsewhere;
//   `runbook workers` shows the worker draining with the jobs it still holds; it exits 0;
// - with --suspend the jobs stay suspended until `runbook resume`;
// - SIGTERM drains the same way; a second SIGINT exits at once, leaving the lease to expire.
// The scenarios run in order on one cluster: each drains one more of the workers d1..d5.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, TIMEOUT_MS, finishedCounts, overlaps, waitFor, type LedgerRow } from "./harness.js";

let c: Cluster;
let alive = ["d1", "d2", "d3", "d4", "d5"];
beforeAll(async () => {
  c = await Cluster.create();
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

describe("drain", () => {
  it("hands jobs over at their next checkpoint, interrupts one with no checkpoint at the timeout, shows draining, exits 0", async () => {
    const [s1, s2, u1] = await c.idsOwnedBy("d1", alive, 3, "drain");
    await c.enqueue("steps", { n: 6, ms: 400 }, [s1, s2]);
    await c.enqueue("unbroken", { n: 2, ms: 2_500 }, [u1]);
    await waitFor("d1 running all three", async () => {
      const rows = await c.ledger();
      return [s1, s2].every((id) => rows.some((r) => r.job === id && r.step === 2)) && rows.some((r) => r.job === u1);
    }, 20_000);

    const drainedAt = Date.now();
    const drain = c.cli(["drain", "d1", "--timeout", "3s"]);
    await waitFor("d1 draining", () => draining("d1"), 10_000);
    const shown = await c.cli(["workers"]);
    // NAME STATE HEARTBEAT SLOTS RUNNING: draining, no slots, the unbroken job still held.
    expect(shown.stdout).toMatch(/^d1\s+draining\s+\S+\s+0\s+[1-9]/m);
    const ran = await drain;
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^draining d1: \d+ running jobs? hand over at their next checkpoint \(timeout 3s\)\nd1 has drained and stopped\n$/);
    expect(await c.worker("d1").exited).toBe(0);
    alive = alive.filter((n) => n !== "d1");

    await c.waitAll([s1, s2, u1], "completed", 30_000);
    for (const id of [s1, s2]) {
      const rows = await exactlyOnce(id, 6);
      const moved = rows.findIndex((r) => r.worker !== "d1");
      expect(moved).toBeGreaterThan(0); // some steps on d1, the rest elsewhere, each once
      expect(rows.slice(moved).every((r) => r.worker !== "d1")).toBe(true);
      const history = await c.history(id);
      expect(history.some((h) => h.worker === "d1" && h.from_status === "running" && h.to_status === "queued" && h.reason === "worker d1 is draining")).toBe(true);
    }
    // No checkpoint: interrupted at the timeout, then run again from its first step elsewhere.
    const rows = await c.ledger(u1);
    const first = rows.find((r) => r.worker !== "d1")!;
    expect(rows.filter((r) => r.worker === "d1").length).toBeGreaterThan(0);
    expect(first.step).toBe(1);
    expect(first.started_at.getTime() - drainedAt).toBeGreaterThanOrEqual(3_000);
    expect(finishedCounts(rows.filter((r) => r.worker === first.worker))).toEqual(new Map([[1, 1], [2, 1]]));
    expect(overlaps(rows)).toEqual([]);
    const history = await c.history(u1);
    expect(history.some((h) => h.worker === "d1" && /^interrupted: worker d1 was draining and the job reached no checkpoint in time$/.test(h.reason))).toBe(true);
  });

  it("--suspend leaves the jobs suspended until `runbook resume`", async () => {
    const ids = await c.idsOwnedBy("d3", alive, 2, "suspend");
    await c.enqueue("steps", { n: 5, ms: 400 }, ids);
    await waitFor("both at step 2", async () => {
      const rows = await c.ledger();
      return ids.every((id) => rows.some((r) => r.job === id && r.step === 2 && r.worker === "d3"));
    }, 20_000);
    const ran = await c.cli(["drain", "d3", "--suspend", "--timeout", "10s"]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/suspend at their next checkpoint/);
    expect(await c.worker("d3").exited).toBe(0);
    alive = alive.filter((n) => n !== "d3");
    expect([...(await c.status(ids)).values()]).toEqual(["suspended", "suspended"]);
    // Nobody picks them up: three heartbeats and polls later they are still suspended.
    await new Promise((r) => setTimeout(r, 1_500));
    expect([...(await c.status(ids)).values()]).toEqual(["suspended", "suspended"]);
    const stepsBefore = (await c.ledger()).filter((r) => ids.includes(r.job)).length;
    expect(stepsBefore).toBeLessThan(10);

    for (const id of ids) expect((await c.cli(["resume", id])).code).toBe(0);
    await c.waitAll(ids, "completed", 30_000);
    for (const id of ids) {
      const rows = await exactlyOnce(id, 5);
      expect(rows.some((r) => r.worker !== "d3")).toBe(true);
      const history = await c.history(id);
      expect(history.some((h) => h.to_status === "suspended" && h.reason === "worker d3 is draining")).toBe(true);
    }
  });

  it("SIGTERM drains the same way: draining at once, handed-over jobs go on elsewhere while a long step finishes, exit 0", async () => {
    const [s1, s2, u1] = await c.idsOwnedBy("d4", alive, 3, "term");
    const ids = [s1, s2];
    await c.enqueue("steps", { n: 5, ms: 400 }, ids);
    await c.enqueue("unbroken", { n: 1, ms: 5_000 }, [u1]);
    await waitFor("both at step 2, and the long step under way", async () => {
      const rows = await c.ledger();
      return ids.every((id) => rows.some((r) => r.job === id && r.step === 2 && r.worker === "d4")) && rows.some((r) => r.job === u1);
    }, 20_000);
    c.signal("d4", "SIGTERM");
    // Others see it draining (it owns no slots any more) while it still finishes the long step.
    await waitFor("d4 draining", () => draining("d4"), 5_000);
    // The handed-over jobs continue on another worker within a claim, not after the long step.
    await c.waitAll(ids, "completed", 30_000);
    expect((await c.status([u1])).get(u1)).not.toBe("completed");
    for (const id of ids) {
      const rows = await exactlyOnce(id, 5);
      const last = rows.filter((r) => r.worker === "d4").at(-1)!;
      const next = rows.find((r) => r.worker !== "d4")!;
      expect(next.started_at.getTime() - last.ended_at!.getTime()).toBeLessThan(2_000);
      expect((await c.history(id)).some((h) => h.to_status === "queued" && h.reason === "worker d4 is stopping")).toBe(true);
    }
    expect(await c.worker("d4").exited).toBe(0);
    alive = alive.filter((n) => n !== "d4");
    expect(c.worker("d4").stderr).toMatch(/SIGTERM: claiming nothing more; running jobs hand over at their next checkpoint/);
    await c.waitAll([u1], "completed", 10_000);
    expect((await c.ledger(u1)).map((r) => r.worker)).toEqual(["d4"]); // finished where it ran
  });

  it("a second SIGINT exits at once; the job resumes elsewhere when its lease expires", async () => {
    const [id] = await c.idsOwnedBy("d5", alive, 1, "int");
    await c.enqueue("unbroken", { n: 2, ms: 1_500 }, [id]);
    await waitFor("d5 running it", async () => (await c.ledger(id)).some((r) => r.worker === "d5"), 20_000);
    c.signal("d5", "SIGINT");
    await waitFor("the first SIGINT taken", async () => c.worker("d5").stderr.includes("SIGINT: claiming nothing more"), 5_000, 10);
    const second = Date.now();
    c.signal("d5", "SIGINT");
    const code = await c.worker("d5").exited;
    expect(code).toBe(130);
    expect(Date.now() - second).toBeLessThan(1_000);
    expect(c.worker("d5").stderr).toMatch(/SIGINT again: exiting now/);
    // The lease is left to expire: still running on d5 right after the exit.
    const { rows } = await c.db.pool.query<{ status: string; worker: string }>("SELECT status, worker FROM jobs WHERE id = $1", [id]);
    expect(rows[0]).toEqual({ status: "running", worker: "d5" });
    await c.waitAll([id], "completed", TIMEOUT_MS + 15_000);
    const ledger = await c.ledger(id);
    const resumed = ledger.find((r) => r.worker !== "d5")!;
    expect(resumed.step).toBe(1); // no checkpoint: from its beginning
    expect(resumed.started_at.getTime() - second).toBeGreaterThanOrEqual(TIMEOUT_MS - 1_000);
    expect(overlaps(ledger.filter((r) => r.worker !== "d5"))).toEqual([]);
  });
});
