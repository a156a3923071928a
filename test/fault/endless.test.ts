// A job stuck in a loop with no suspension point, on a real worker process: its step yields at
// the emitted loop's ticks, so the worker's heartbeats go on (no lease expires, no takeover), a
// normal job beside it completes on the same worker, and `runbook stop` and `runbook suspend`
// reach it (a suspended one parks at its latest checkpoint, and `runbook resume` goes on there).
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, LONG_TIMEOUT_MS, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create([path.join("test", "fault", "endless")], { timeoutMs: LONG_TIMEOUT_MS });
  await c.startWorker("e1", { concurrency: 4 });
  await c.settle(["e1"]);
});
afterAll(async () => {
  await c?.destroy();
});

async function heartbeatAt(): Promise<number> {
  const { rows } = await c.db.pool.query<{ at: Date }>("SELECT heartbeat_at AS at FROM workers WHERE name = 'e1'");
  return rows[0].at.getTime();
}

describe("a step without suspension points", () => {
  it("does not block its worker: heartbeats go on, a normal job completes beside it, runbook stop stops it", async () => {
    const [spin] = await c.enqueue("spin", {}, ["spin-1"]);
    await waitFor("the spin job to start looping", async () => (await c.outputs(spin)).length === 0 && (await c.status([spin])).get(spin) === "running", 60_000);
    // Its output is buffered until a checkpoint it never reaches; "running" and held by e1.
    const { rows: before } = await c.db.pool.query<{ epoch: string; worker: string }>("SELECT lease_epoch AS epoch, worker FROM jobs WHERE id = $1", [spin]);
    expect(before[0].worker).toBe("e1");
    const { rows: lease0 } = await c.db.pool.query<{ due_at: Date }>("SELECT due_at FROM jobs WHERE id = $1", [spin]);

    // Past the time the lease would have expired without a renewal: the worker's heartbeats
    // went on (a worker blocked by the loop would never get here: its heartbeat stops).
    await waitFor("a heartbeat after the first lease would have expired", async () => (await heartbeatAt()) > lease0[0].due_at.getTime(), c.timeoutMs + 60_000);
    const [quick] = await c.enqueue("quick", { n: 100 }, ["quick-1"]);
    await c.waitAll([quick], "completed");
    const { rows: q } = await c.db.pool.query<{ result: unknown; worker: string | null }>("SELECT result FROM jobs WHERE id = $1", [quick]);
    expect(q[0].result).toBe(5050);
    const ranOn = (await c.history(quick)).filter((h) => h.to_status === "running").map((h) => h.worker);
    expect(ranOn.length).toBeGreaterThan(0);
    expect(ranOn.every((w) => w === "e1")).toBe(true);

    // Still the same lease: never taken over, never released.
    const { rows: still } = await c.db.pool.query<{ epoch: string; status: string }>("SELECT lease_epoch AS epoch, status FROM jobs WHERE id = $1", [spin]);
    expect(still[0]).toEqual({ epoch: before[0].epoch, status: "running" });

    // The loop never ends by itself: stopped at all, the stop reached it.
    const stop = await c.cli(["stop", spin]);
    expect(stop.code, stop.stderr).toBe(0);
    await c.waitAll([spin], "stopped");
    // Nothing of the interrupted step was written (its output waited for a checkpoint).
    expect(await c.outputs(spin)).toEqual([]);
    expect(c.worker("e1").exitCode).toBe(null);
    expect(c.worker("e1").stderr).not.toMatch(/lost the lease|heartbeat failed/);
  });

  it("is suspended by runbook suspend at its latest checkpoint, and runbook resume goes on from there", async () => {
    const [spin] = await c.enqueue("spin_after", {}, ["spin-after-1"]);
    await waitFor("the job to checkpoint and loop", async () => (await c.outputs(spin)).length === 1 && (await c.status([spin])).get(spin) === "running", 60_000);
    const { rows: before } = await c.db.pool.query<{ epoch: string; checkpoints: number }>("SELECT lease_epoch AS epoch, checkpoints FROM jobs WHERE id = $1", [spin]);
    expect(before[0].checkpoints).toBe(1);

    const suspend = await c.cli(["suspend", spin]);
    expect(suspend.code, suspend.stderr).toBe(0);
    await c.waitAll([spin], "suspended");
    const { rows: parked } = await c.db.pool.query<{ epoch: string; checkpoints: number; label: string; control: string | null; worker: string | null }>(
      "SELECT lease_epoch AS epoch, checkpoints, checkpoint_label AS label, control, worker FROM jobs WHERE id = $1",
      [spin],
    );
    // Parked by its own worker (same lease, not taken over) at the checkpoint it had; the
    // output of the interrupted step ("after") was never written.
    expect(parked[0]).toMatchObject({ epoch: before[0].epoch, checkpoints: 1, label: "looping", control: null });
    expect(await c.outputs(spin)).toEqual(["before"]);
    const last = (await c.history(spin)).at(-1)!;
    expect(last).toMatchObject({ from_status: "running", to_status: "suspended", worker: "e1", reason: "suspended by operator" });

    const resume = await c.cli(["resume", spin]);
    expect(resume.code, resume.stderr).toBe(0);
    await waitFor("the resumed job to run", async () => {
      const { rows } = await c.db.pool.query<{ status: string; epoch: string }>("SELECT status, lease_epoch AS epoch FROM jobs WHERE id = $1", [spin]);
      return rows[0].status === "running" && rows[0].epoch !== before[0].epoch;
    });
    // Looping again from its checkpoint: not from its start (that would write "before" and the
    // checkpoint again, before its loop). Two heartbeats of e1 later, neither happened.
    await c.synced(["e1"]);
    expect((await c.status([spin])).get(spin)).toBe("running");
    const { rows: again } = await c.db.pool.query<{ checkpoints: number }>("SELECT checkpoints FROM jobs WHERE id = $1", [spin]);
    expect(again[0].checkpoints).toBe(1);
    expect(await c.outputs(spin)).toEqual(["before"]);

    const stop = await c.cli(["stop", spin]);
    expect(stop.code, stop.stderr).toBe(0);
    await c.waitAll([spin], "stopped");
    expect(c.worker("e1").exitCode).toBe(null);
    expect(c.worker("e1").stderr).not.toMatch(/lost the lease|heartbeat failed/);
  });
});
