// Race tests for the lease protocol (RUNTIME.md promises 2 and 6): a heartbeat renewing a lease
// at the very moment the job ends, parks, is handed over, stopped or taken over must never give
// the row a due time it should not have, so no ended, suspended or parked job is claimed again.
//
// The interleaving that broke it (issue 9) is driven, not hoped for: the heartbeat statement takes
// its snapshot, then blocks on the worker row, which the test holds locked in an explicit
// transaction; the job's write commits; then the test lets the heartbeat go on. Before the fix,
// the heartbeat then renewed the lease of the job it had read as `running` in its snapshot. A
// second test runs thousands of free-running interleavings of the same writes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { JobLease } from "../../runtime/lease.js";
import { AWAIT_RECHECK_MS } from "../../runtime/settings.js";
import { claimJobs, type ClaimedJob } from "../../runtime/sql/claim.js";
import { completeJobs } from "../../runtime/sql/complete.js";
import { controlJob } from "../../runtime/sql/control.js";
import { releaseLease } from "../../runtime/sql/park.js";
import { heartbeat, registerWorker } from "../../runtime/sql/workers.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { freshDb } from "../setup/db.js";
import { enqueue, job, publish, waitFor } from "./helpers.js";

const W = "racer";
const HOUR = 3_600_000;
let db: Db;
let version: string;
let allSlots: number[];

beforeAll(async () => {
  db = await freshDb(12);
  version = (await publish(db, [{ name: "noop", body: `return { kind: "return", value: null };` }])).get("noop")!;
  allSlots = Array.from({ length: db.slotCount }, (_, i) => i);
  for (const name of [W, "taker"]) await registerWorker(db.pool, { name, host: "test", pid: 1, concurrency: 10, timeoutMs: HOUR });
});

afterAll(async () => {
  await db?.close();
});

/**
 * Queues a job and claims it as `worker`. Its id is drawn so that its slot belongs to `lane`
 * (slot mod 16), and every test deletes its jobs, so each claim finds only its own job even
 * while other lanes run.
 */
async function claimed(worker = W, leaseMs = HOUR, lane = 15): Promise<ClaimedJob> {
  const { rows } = await db.pool.query<{ id: string }>(
    "SELECT id FROM (SELECT gen_random_uuid()::text AS id FROM generate_series(1, 256)) x WHERE runbook_slot(id) % 16 = $1 LIMIT 1",
    [lane],
  );
  const id = await enqueue(db, "noop", version, {}, rows[0].id);
  const slot = (await job(db, id)).slot;
  const claims = await claimJobs(db.pool, worker, [slot], 10, leaseMs);
  const mine = claims.find((c) => c.id === id);
  if (!mine || claims.length !== 1) throw new Error(`claimed ${claims.map((c) => c.id).join(", ")} instead of ${id}`);
  return mine;
}

function lease(c: ClaimedJob, worker = W): JobLease {
  return new JobLease(db.pool, worker, c, () => undefined);
}

/** Rows that break the claimable-status rule, whatever wrote them. */
async function badRows(): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string; status: string }>(
    "SELECT id, status FROM jobs WHERE due_at IS NOT NULL AND status NOT IN ('queued', 'running', 'sleeping', 'waiting')",
  );
  return rows.map((r) => `${r.id} ${r.status}`);
}

/**
 * Runs `write` between the heartbeat's snapshot and its lease renewal: the heartbeat blocks on
 * the worker row (held by `gate`) after its statement began, `write` commits, then it goes on.
 */
async function heartbeatAround(c: ClaimedJob, write: () => Promise<unknown>, leaseMs = HOUR, worker = W) {
  const gate = await db.pool.connect();
  try {
    await gate.query("BEGIN");
    await gate.query("SELECT 1 FROM workers WHERE name = $1 FOR UPDATE", [worker]);
    const beat = heartbeat(db.pool, worker, [{ id: c.id, epoch: c.lease_epoch }], leaseMs);
    const caught = beat.catch((e: Error) => e);
    await waitFor("the heartbeat to block on the worker row", async () => {
      // Asked on another connection: inside the gate's transaction the view is a cached snapshot.
      const { rows } = await db.pool.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE workers SET heartbeat_at%' AND datname = current_database()",
      );
      return rows.length > 0;
    });
    await write();
    await gate.query("COMMIT");
    const result = await caught;
    if (result instanceof Error) throw result;
    return result;
  } finally {
    gate.release();
  }
}

async function finishIt(c: ClaimedJob, status: "completed" | "failed") {
  const { written } = await completeJobs(db.pool, W, [
    { id: c.id, epoch: c.lease_epoch, status, result: status === "completed" ? "done" : null, error: status === "failed" ? { message: "x", runbook: "noop", file: "", line: 0, column: 0, data: null } : null, records: [], consumeSignal: null, reason: status },
  ]);
  expect(written.has(c.id)).toBe(true);
}

const none = { waitSignal: null, awaitJob: null, untilMs: null, keepUntil: false };

async function cleanup(id: string) {
  await db.pool.query("DELETE FROM jobs WHERE id = $1", [id]);
}

describe("a heartbeat racing the job's own write", () => {
  it.each(["completed", "failed"] as const)("never renews the lease of a job that just %s", async (status) => {
    const c = await claimed();
    const view = await heartbeatAround(c, () => finishIt(c, status));
    const row = await job(db, c.id);
    expect(row.status).toBe(status);
    expect(row.due_at).toBeNull();
    expect(view.extended).not.toContain(c.id);
    // And nothing claims it again, even with every slot and any lease.
    expect((await claimJobs(db.pool, "taker", allSlots, 100, 1)).map((j) => j.id)).not.toContain(c.id);
    await cleanup(c.id);
  });

  it("never wakes a job parked by a suspend statement", async () => {
    const c = await claimed();
    await heartbeatAround(c, () => lease(c).park({ state: { frames: [{ runbook: "noop", pc: 1, locals: {} }], seq: 1 }, label: "suspend", status: "suspended", ...none, reason: "suspend statement" }));
    expect(await job(db, c.id)).toMatchObject({ status: "suspended", due_at: null });
    await cleanup(c.id);
  });

  it("keeps a sleeping job's wake time", async () => {
    const c = await claimed();
    await heartbeatAround(c, () => lease(c).park({ state: null, label: "sleep", status: "sleeping", ...none, untilMs: 10 * HOUR, reason: "sleeping" }), 0);
    const row = await job(db, c.id);
    expect(row.status).toBe("sleeping");
    expect(row.due_at!.getTime()).toBe(row.wait_until!.getTime());
    await cleanup(c.id);
  });

  it("never gives a job waiting for a signal (no timeout) a due time", async () => {
    const c = await claimed();
    await heartbeatAround(c, () => lease(c).park({ state: null, label: "wait approve", status: "waiting", ...none, waitSignal: "approve", reason: "waiting for signal approve" }));
    expect(await job(db, c.id)).toMatchObject({ status: "waiting", wait_signal: "approve", due_at: null });
    await cleanup(c.id);
  });

  it("keeps an awaiting job's recheck time", async () => {
    const child = await enqueue(db, "noop", version, {}, `child-${Date.now()}`);
    const c = await claimed();
    await heartbeatAround(c, () => lease(c).park({ state: null, label: "await", status: "waiting", ...none, awaitJob: child, untilMs: AWAIT_RECHECK_MS, reason: `awaiting job ${child}` }), 0);
    const row = await job(db, c.id);
    expect(row.status).toBe("waiting");
    expect(row.due_at!.getTime()).toBe(row.wait_until!.getTime());
    await cleanup(c.id);
    await cleanup(child);
  });

  it("leaves a job handed over at a checkpoint due now, for the slot's next owner", async () => {
    const c = await claimed();
    await heartbeatAround(c, () => lease(c).park({ state: null, label: null, status: "queued", ...none, reason: "handover" }));
    const row = await job(db, c.id);
    expect(row.status).toBe("queued");
    expect((await db.pool.query("SELECT due_at <= now() AS due FROM jobs WHERE id = $1", [c.id])).rows[0].due).toBe(true);
    await cleanup(c.id);
  });

  it("does not renew a lease released at the drain timeout", async () => {
    const c = await claimed();
    const view = await heartbeatAround(c, () => releaseLease(db.pool, c.id, c.lease_epoch, W, "drain timeout"));
    expect(view.extended).not.toContain(c.id);
    expect((await db.pool.query("SELECT due_at <= now() AS due, status FROM jobs WHERE id = $1", [c.id])).rows[0]).toEqual({ due: true, status: "queued" });
    await cleanup(c.id);
  });

  it("never revives a job an operator stopped at its checkpoint", async () => {
    const c = await claimed();
    await withTransaction(db.pool, (t) => controlJob(t, c.id, "stop", "test operator"));
    // The runner's checkpoint found the control pending and parks; the park ends it stopped.
    await heartbeatAround(c, () => lease(c).park({ state: null, label: null, status: "suspended", ...none, reason: "operator control" }));
    expect(await job(db, c.id)).toMatchObject({ status: "stopped", due_at: null });
    await cleanup(c.id);
  });

  it("does not renew a lease another worker took over after it expired", async () => {
    const c = await claimed(W, 1);
    await waitFor("the lease to expire", async () => (await db.pool.query("SELECT due_at <= now() AS due FROM jobs WHERE id = $1", [c.id])).rows[0].due);
    let taken: ClaimedJob | undefined;
    // The old holder's heartbeat asks for a lease ending now: had it touched the new holder's
    // row, the job would be due again at once and taken over a second time.
    const view = await heartbeatAround(c, async () => {
      taken = (await claimJobs(db.pool, "taker", [c.slot], 10, HOUR)).find((j) => j.id === c.id);
    }, 0);
    expect(taken).toBeDefined();
    expect(view.extended).not.toContain(c.id);
    const row = (await db.pool.query("SELECT worker, due_at > now() + interval '30 minutes' AS held_long FROM jobs WHERE id = $1", [c.id])).rows[0];
    expect(row).toEqual({ worker: "taker", held_long: true });
    // The old holder's completion is refused.
    const { written } = await completeJobs(db.pool, W, [{ id: c.id, epoch: c.lease_epoch, status: "completed", result: null, error: null, records: [], consumeSignal: null, reason: "stale" }]);
    expect(written.size).toBe(0);
    await cleanup(c.id);
  });
});

describe("the database refuses the bad states themselves", () => {
  it("refuses a due time on an ended or suspended job, and any move out of an ended status", async () => {
    const c = await claimed();
    await finishIt(c, "completed");
    await expect(db.pool.query("UPDATE jobs SET due_at = now() WHERE id = $1", [c.id])).rejects.toThrow(/jobs_due_only_when_claimable/);
    await expect(db.pool.query("UPDATE jobs SET status = 'queued', due_at = now() WHERE id = $1", [c.id])).rejects.toThrow(/has ended/);
    await expect(db.pool.query("UPDATE jobs SET status = 'running', worker = 'x', due_at = now() WHERE id = $1", [c.id])).rejects.toThrow(/has ended/);
    await cleanup(c.id);
  });

  it("lets only an operator move a suspended job", async () => {
    const c = await claimed();
    await lease(c).park({ state: null, label: null, status: "suspended", ...none, reason: "suspend statement" });
    await expect(db.pool.query("UPDATE jobs SET status = 'queued', due_at = now() WHERE id = $1", [c.id])).rejects.toThrow(/only an operator/);
    await withTransaction(db.pool, (t) => controlJob(t, c.id, "resume", "test operator"));
    expect((await job(db, c.id)).status).toBe("queued");
    await cleanup(c.id);
  });

  it("refuses a running job without a worker or a lease expiry", async () => {
    const id = await enqueue(db, "noop", version);
    await expect(db.pool.query("UPDATE jobs SET status = 'running', lease_epoch = 1 WHERE id = $1", [id])).rejects.toThrow(/jobs_running_is_held/);
    await expect(db.pool.query("UPDATE jobs SET status = 'running', worker = 'x', lease_epoch = 1, due_at = NULL WHERE id = $1", [id])).rejects.toThrow(/jobs_due_when/);
    await cleanup(id);
  });
});

describe("free-running interleavings", () => {
  it("2,000 heartbeats racing completions, parks, releases and takeovers leave no ended or parked job claimable", async () => {
    const kinds = ["complete", "suspend", "sleep", "wait", "handover", "release"] as const;
    const rounds = 2_000;
    const parallel = 8;
    let next = 0;
    const ended = new Set<string>();
    const lane = async (laneNo: number) => {
      for (let i = next++; i < rounds; i = next++) {
        const c = await claimed(W, 5_000, laneNo);
        const l = lease(c);
        const kind = kinds[i % kinds.length];
        const write = (): Promise<unknown> => {
          switch (kind) {
            case "complete": return completeJobs(db.pool, W, [{ id: c.id, epoch: c.lease_epoch, status: "completed", result: null, error: null, records: [], consumeSignal: null, reason: "done" }]);
            case "suspend": return l.park({ state: null, label: null, status: "suspended", ...none, reason: "suspend" });
            case "sleep": return l.park({ state: null, label: null, status: "sleeping", ...none, untilMs: HOUR, reason: "sleep" });
            case "wait": return l.park({ state: null, label: "wait go", status: "waiting", ...none, waitSignal: "go", reason: "wait" });
            case "handover": return l.park({ state: null, label: null, status: "queued", ...none, reason: "handover" });
            case "release": return releaseLease(db.pool, c.id, c.lease_epoch, W, "release");
          }
        };
        // Both statements start in either order, on separate connections, with no gate.
        const beat = () => heartbeat(db.pool, W, [{ id: c.id, epoch: c.lease_epoch }], HOUR);
        await (i % 2 ? Promise.all([beat(), write()]) : Promise.all([write(), beat()]));
        const row = await job(db, c.id);
        const wrong =
          (kind === "complete" || kind === "suspend" || kind === "wait") ? row.due_at !== null
          : kind === "sleep" ? row.due_at?.getTime() !== row.wait_until?.getTime()
          : row.due_at!.getTime() > Date.now() + 60_000; // handover, release: due now, not an hour out
        if (wrong) ended.add(`${kind} ${c.id} ${row.status} due ${row.due_at?.toISOString()}`);
        await cleanup(c.id);
      }
    };
    await Promise.all(Array.from({ length: parallel }, (_, n) => lane(n)));
    expect([...ended]).toEqual([]);
    expect(await badRows()).toEqual([]);
  }, 300_000);
});
