// Leases, fencing and handover between workers on a real PostgreSQL: a job taken over after
// its holder stops heartbeating resumes from its latest checkpoint (work before it not redone,
// streams exactly once) while the old holder's writes are refused; sleeping frees a worker and
// wakes on another; a stopping worker hands its job over at the next checkpoint; live workers
// split the slots and keep their leases alive past the timeout.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ActivityHost } from "../../runtime/activities.js";
import { CheckpointBatcher, CompletionBatcher } from "../../runtime/batcher.js";
import { openDb, type Db } from "../../runtime/db/connect.js";
import { JobLease } from "../../runtime/lease.js";
import { Programs } from "../../runtime/programs.js";
import { runJob } from "../../runtime/runner.js";
import { assignSlots } from "../../runtime/slots.js";
import { claimJobs, type ClaimedJob } from "../../runtime/sql/claim.js";
import { controlJob } from "../../runtime/sql/control.js";
import { jobHistory } from "../../runtime/sql/inspect.js";
import { deploy, heartbeat, requestDrain } from "../../runtime/sql/workers.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { writeCheckpoint } from "../../runtime/sql/checkpoint.js";
import { Worker } from "../../runtime/worker.js";
import { freshDb } from "../setup/db.js";
import { calls, gate } from "./fixtures/ledger.js";
import { enqueue, job, LEDGER, outputs, publish, waitFor, waitStatus } from "./helpers.js";
import type { HandModule } from "./modules.js";

const modules: HandModule[] = [
  { name: "noop", body: `return { kind: "return", value: null };` },
  {
    // a, checkpoint, then b (held at a gate on its first run), checkpoint, return.
    name: "two_steps",
    uses: { led: LEDGER },
    body: `switch (frame.pc) {
      case 0:
        await ctx.activity("led", "step", { step: "a" });
        ctx.emit("output", "a done");
        frame.pc = 1; return { kind: "checkpoint", label: "after-a" };
      case 1:
        ctx.emit("output", "b started");
        await ctx.activity("led", "step", { step: "b", hold: L.gate });
        ctx.emit("output", "b done");
        frame.pc = 2; return { kind: "checkpoint", label: "after-b" };
      default: return { kind: "return", value: "ok" };
    }`,
  },
  {
    name: "sleeper",
    body: `switch (frame.pc) {
      case 0: frame.pc = 1; return { kind: "sleep", ms: L.ms };
      default: return { kind: "return", value: "slept" };
    }`,
  },
];

let db: Db;
let versions: Map<string, string>;
const workers: Worker[] = [];

beforeAll(async () => {
  db = await freshDb(8);
  versions = await publish(db, modules);
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 2_000 })));
});

afterAll(async () => {
  await db?.close();
});

// A 3 s lease: long enough that a busy machine does not let a live worker's lease run out
// (no test here means it to), short enough to wait past it.
const fast = { heartbeatMs: 150, timeoutMs: 3_000, pollMs: 100 };

async function startWorker(name: string, concurrency = 4): Promise<Worker> {
  const w = await Worker.start(db, { name, concurrency, ...fast });
  workers.push(w);
  return w;
}

/**
 * A worker that claims one job and then never heartbeats again (a frozen process): it runs the
 * job with the real runner, so every write it attempts goes through the same fenced code.
 */
async function frozenWorker(name: string, leaseMs: number) {
  const all = Array.from({ length: db.slotCount }, (_, i) => i);
  const [claim] = await claimJobs(db.pool, name, all, 1, leaseMs);
  if (!claim) throw new Error("nothing to claim");
  const lease = new JobLease(db.pool, name, claim, () => undefined);
  const completions = new CompletionBatcher(db.pool, name);
  const run = runJob(
    { pool: db.pool, worker: name, programs: new Programs(db.pool), completions, checkpoints: new CheckpointBatcher(db.pool), activities: new ActivityHost(), handOver: () => null, released: () => undefined },
    claim,
    lease,
  );
  return { claim, lease, run };
}

describe("leases and fencing", () => {
  it("resumes a job from its latest checkpoint on another worker after the lease expires, and refuses the old holder's writes", async () => {
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "takeover" });
    const frozen = await frozenWorker("frozen-A", 800);
    await gate("takeover").reached; // A committed the checkpoint after a and is stuck inside b
    expect((await job(db, id)).checkpoint_label).toBe("after-a");

    const b = await startWorker("live-B");
    const done = await waitStatus(db, id, "completed");
    expect(done.worker).toBe("live-B");
    expect(done.lease_epoch).toBe(String(Number(frozen.claim.lease_epoch) + 1));

    // A wakes up and tries to go on: its checkpoint is refused and it writes nothing more.
    gate("takeover").release();
    await frozen.run;
    expect(frozen.lease.lost).toBe(true);
    const stale = await writeCheckpoint(db.pool, { id, epoch: frozen.claim.lease_epoch, state: { frames: [], seq: 0 }, label: "stale", records: [], consumeSignal: null });
    expect(stale).toBeNull();

    const after = await job(db, id);
    expect(after).toMatchObject({ status: "completed", checkpoint_label: "after-b", checkpoints: 2, result: "ok" });
    // Work before the checkpoint ran once; b ran on both (at least once after a checkpoint).
    const mine = calls().filter((c) => c.job === id).map((c) => c.step);
    expect(mine.filter((s) => s === "a")).toHaveLength(1);
    expect(mine.filter((s) => s === "b")).toHaveLength(2);
    // Streams exactly once: A's "b started" / "b done" were never committed.
    expect(await outputs(db, id)).toEqual(["a done", "b started", "b done"]);
    const history = await jobHistory(db.pool, id);
    expect(history[1]).toMatchObject({ from_status: "queued", to_status: "running", worker: "frozen-A", id: null }); // from the job row
    expect(history[2]).toMatchObject({ from_status: "running", to_status: "running", worker: "live-B" });
    expect(history[2].reason).toMatch(/lease of frozen-A expired/);
    void b;
  });

  it("extends at a heartbeat only the leases with less than renewWithin left, and still counts the others as held", async () => {
    const all = Array.from({ length: db.slotCount }, (_, i) => i);
    const fresh = await enqueue(db, "noop", versions.get("noop")!);
    const [f] = await claimJobs(db.pool, "renew-A", all, 1, 60_000);
    expect(f.id).toBe(fresh);
    const old = await enqueue(db, "noop", versions.get("noop")!);
    const [o] = await claimJobs(db.pool, "renew-A", all, 1, 10_000);
    expect(o.id).toBe(old);
    const before = await job(db, fresh);
    const view = await heartbeat(db.pool, "renew-A", [f, o].map((c) => ({ id: c.id, epoch: c.lease_epoch })), 60_000, 30_000);
    expect(view.renewed.sort()).toEqual([fresh, old].sort());
    expect(view.extended).toEqual([old]);
    expect((await job(db, fresh)).due_at).toEqual(before.due_at);
    expect((await job(db, old)).due_at!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    await db.pool.query("DELETE FROM jobs WHERE id IN ($1, $2)", [fresh, old]);
  });

  it("keeps a live worker's lease past the timeout through heartbeats", async () => {
    const a = await startWorker("steady-A");
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "long-step" });
    await gate("long-step").reached;
    const before = await job(db, id);
    // Until the database clock is well past the lease's first due time (2x the timeout).
    await waitFor("the first lease to be long past", async () => {
      const { rows } = await db.pool.query<{ past: boolean }>("SELECT now() > $1::timestamptz + $2 * interval '1 millisecond' AS past", [before.due_at, fast.timeoutMs]);
      return rows[0].past;
    }, 60_000);
    const during = await job(db, id);
    expect(during.lease_epoch).toBe(before.lease_epoch);
    expect(during.due_at!.getTime()).toBeGreaterThan(before.due_at!.getTime());
    gate("long-step").release();
    const done = await waitStatus(db, id, "completed");
    expect(done.lease_epoch).toBe(before.lease_epoch);
    expect(calls().filter((c) => c.job === id && c.step === "b")).toHaveLength(1);
    void a;
  });
});

describe("handover between workers", () => {
  it("frees the worker while a job sleeps, and wakes it on another worker", async () => {
    const a = await startWorker("sleepy-A", 1);
    // A 5 s sleep: A runs another job and stops within it (checked below).
    const id = await enqueue(db, "sleeper", versions.get("sleeper")!, { ms: 5_000 });
    const sleeping = await waitStatus(db, id, "sleeping");
    // Concurrency 1, yet A runs another job while the first sleeps.
    const other = await enqueue(db, "noop", versions.get("noop")!);
    expect((await waitStatus(db, other, "completed")).worker).toBe("sleepy-A");
    await a.stop();
    workers.splice(workers.indexOf(a), 1);
    const { rows } = await db.pool.query<{ now: Date }>("SELECT now()");
    expect(rows[0].now.getTime()).toBeLessThan(sleeping.wait_until!.getTime()); // A stopped while it slept
    await startWorker("wakeful-B");
    const done = await waitStatus(db, id, "completed");
    expect(done.worker).toBe("wakeful-B");
    // The first claim is in the job row (migration 0008); jobHistory shows it with the rest.
    const runs = (await jobHistory(db.pool, id)).filter((h) => h.to_status === "running").map((h) => h.worker);
    expect(runs).toEqual(["sleepy-A", "wakeful-B"]);
  });

  it("hands a running job over at its next checkpoint when its worker stops", async () => {
    const a = await startWorker("leaving-A");
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "handover" });
    await gate("handover").reached;
    const stopping = a.stop({ graceMs: 10_000 });
    gate("handover").release();
    await stopping;
    workers.splice(workers.indexOf(a), 1);
    const handed = await job(db, id);
    expect(handed).toMatchObject({ status: "queued", checkpoint_label: "after-b" });
    await startWorker("arriving-B");
    const done = await waitStatus(db, id, "completed");
    expect(done.worker).toBe("arriving-B");
    expect(calls().filter((c) => c.job === id).map((c) => c.step)).toEqual(["a", "b"]);
    const reasons = (await db.pool.query("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
    expect(reasons).toContain("worker leaving-A is stopping");
  });

  it("splits the slots between live workers and moves them when one stops", async () => {
    const a = await startWorker("split-A");
    const b = await startWorker("split-B");
    await waitFor("both workers to see each other", async () => a.ownedSlots.length + b.ownedSlots.length === db.slotCount && b.ownedSlots.length > 0 && a.ownedSlots.length > 0);
    const owners = assignSlots(db.slotCount, ["split-A", "split-B"]);
    expect(new Set(a.ownedSlots)).toEqual(new Set(owners.flatMap((o, s) => (o === "split-A" ? [s] : []))));
    const ids = await Promise.all(Array.from({ length: 40 }, () => enqueue(db, "noop", versions.get("noop")!)));
    for (const id of ids) {
      const done = await waitStatus(db, id, "completed");
      expect(done.worker).toBe(owners[done.slot]);
    }
    await a.stop();
    workers.splice(workers.indexOf(a), 1);
    await waitFor("B to own every slot", async () => b.ownedSlots.length === db.slotCount);
  });
});

describe("joining", () => {
  it("a worker started with joinOnlyIfAlone leaves a live fleet's slots alone, and joins when alone", async () => {
    const fleet = await startWorker("fleet-1");
    const visitor = await Worker.start(db, { name: "visitor", concurrency: 1, ...fast, joinOnlyIfAlone: true });
    workers.push(visitor);
    // Two heartbeats of the visitor later (each recomputes its slots), it still owns none.
    for (let i = 0; i < 2; i++) {
      const { rows } = await db.pool.query<{ t: Date }>("SELECT clock_timestamp() AS t");
      await waitFor("a heartbeat of the visitor", async () => (await db.pool.query("SELECT 1 FROM workers WHERE name = 'visitor' AND heartbeat_at > $1", [rows[0].t])).rowCount === 1);
    }
    expect(visitor.ownedSlots).toEqual([]);
    expect(fleet.ownedSlots.length).toBe(db.slotCount);
    await fleet.stop();
    workers.splice(workers.indexOf(fleet), 1);
    await visitor.stop();
    workers.splice(workers.indexOf(visitor), 1);
    const alone = await Worker.start(db, { name: "alone", concurrency: 1, ...fast, joinOnlyIfAlone: true });
    workers.push(alone);
    expect(alone.ownedSlots.length).toBe(db.slotCount);
  });
});

describe("redeploy", () => {
  afterEach(async () => {
    // Back to automatic deployments for the tests that follow.
    await db.pool.query("INSERT INTO deployments (workers, auto) VALUES ('{}', true)");
  });

  it("hands a running job over at its next checkpoint when a redeploy moves its slot", async () => {
    const a = await startWorker("redeploy-A");
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "redeploy" });
    await gate("redeploy").reached;
    const b = await startWorker("redeploy-B");
    await deploy(db.pool, ["redeploy-B"]);
    await waitFor("the slots to move to B", async () => b.ownedSlots.length === db.slotCount && a.ownedSlots.length === 0);
    gate("redeploy").release();
    const done = await waitStatus(db, id, "completed");
    expect(done.worker).toBe("redeploy-B");
    const history = (await db.pool.query("SELECT worker, reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows;
    expect(history).toContainEqual({ worker: "redeploy-A", reason: `slot ${done.slot} moved to another worker` });
    expect(calls().filter((c) => c.job === id).map((c) => c.step)).toEqual(["a", "b"]);
  });

  it("releases a job that reaches no checkpoint within the handover timeout after its slot moved", async () => {
    const a = await Worker.start(db, { name: "moved-A", concurrency: 4, ...fast, handoverTimeoutMs: 300 });
    workers.push(a);
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "moved-timeout" });
    await gate("moved-timeout").reached;
    await startWorker("moved-B");
    await deploy(db.pool, ["moved-B"]);
    const done = await waitStatus(db, id, "completed"); // A is still stuck inside step b
    expect(done.worker).toBe("moved-B");
    gate("moved-timeout").release();
    const reasons = (await db.pool.query("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
    expect(reasons.some((r) => r.startsWith(`interrupted: slot ${done.slot} moved to another worker`))).toBe(true);
    expect(await outputs(db, id)).toEqual(["a done", "b started", "b done"]);
  });
});

describe("drain", () => {
  it("hands a draining worker's running job over at its next checkpoint, then the worker stops", async () => {
    const a = await startWorker("drain-A");
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "drain-handover" });
    await gate("drain-handover").reached;
    await startWorker("drain-B");
    expect(await requestDrain(db.pool, "drain-A", 10_000, false)).toBe(true);
    await waitFor("A to hear of its drain", async () => a.isStopping);
    gate("drain-handover").release();
    await a.whenStopped();
    const done = await waitStatus(db, id, "completed");
    expect(done.worker).toBe("drain-B");
    expect(calls().filter((c) => c.job === id).map((c) => c.step)).toEqual(["a", "b"]);
    const reasons = (await db.pool.query("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
    expect(reasons).toContain("worker drain-A is draining");
    expect(await requestDrain(db.pool, "drain-A", 1_000, false)).toBe(false); // it has stopped
  });

  it("leaves drained jobs suspended with --suspend, until an operator resumes them", async () => {
    const a = await startWorker("drain-suspend-A");
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "drain-suspend" });
    await gate("drain-suspend").reached;
    await requestDrain(db.pool, "drain-suspend-A", 10_000, true);
    await waitFor("A to hear of its drain", async () => a.isStopping);
    gate("drain-suspend").release();
    await a.whenStopped();
    expect(await job(db, id)).toMatchObject({ status: "suspended", checkpoint_label: "after-b" });
    await startWorker("drain-suspend-B");
    await withTransaction(db.pool, (c) => controlJob(c, id, "resume", "test"));
    expect((await waitStatus(db, id, "completed")).worker).toBe("drain-suspend-B");
  });

  it("interrupts a job that reaches no checkpoint by the drain timeout; it restarts from its latest checkpoint elsewhere", async () => {
    const a = await startWorker("drain-timeout-A");
    const id = await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "drain-timeout" });
    await gate("drain-timeout").reached;
    await startWorker("drain-timeout-B");
    await requestDrain(db.pool, "drain-timeout-A", 300, false);
    await a.whenStopped(); // the gate is still closed: A's job never reached its next checkpoint
    const done = await waitStatus(db, id, "completed");
    expect(done.worker).toBe("drain-timeout-B");
    gate("drain-timeout").release(); // A's stuck activity returns; A writes nothing more
    await waitFor("A's stuck call to return", async () => calls().filter((c) => c.job === id && c.step === "b").length === 2);
    await new Promise((r) => setTimeout(r, 200)); // A's refused writes, if any, would be in by now
    expect(await outputs(db, id)).toEqual(["a done", "b started", "b done"]);
    const reasons = (await db.pool.query("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
    expect(reasons.some((r) => r.startsWith("interrupted: worker drain-timeout-A was draining"))).toBe(true);
  });
});

describe("prefetched jobs", () => {
  it("gives claimed jobs that never started back in one statement when the worker stops; each then runs once elsewhere", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await enqueue(db, "two_steps", versions.get("two_steps")!, { gate: "prefetch" }));
    // One runner, a batch of 10: one job runs (held at the gate inside b), three wait claimed.
    const a = await Worker.start(db, { name: "prefetch-A", concurrency: 1, claimBatch: 10, ...fast });
    await gate("prefetch").reached;
    expect([...a.runningJobs].sort()).toEqual([...ids].sort());
    const ran = calls().filter((c) => ids.includes(c.job)).map((c) => c.job);
    expect(ran).toHaveLength(1);
    const waiting = ids.filter((id) => id !== ran[0]);

    const stopped = a.stop({ graceMs: 10_000 });
    await waitFor("the waiting jobs back in the queue", async () => {
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = 'queued' AND lease_epoch = 2", [waiting]);
      return rows[0].n === 3;
    });
    gate("prefetch").release();
    await stopped; // the running one hands over at its next checkpoint

    const { rows: back } = await db.pool.query("SELECT job_id, worker, at FROM job_history WHERE job_id = ANY($1) AND reason = 'worker prefetch-A stopped before starting it'", [waiting]);
    expect(back.map((r) => r.job_id).sort()).toEqual([...waiting].sort());
    expect(new Set(back.map((r) => r.at.getTime())).size).toBe(1); // one statement, one transaction

    await startWorker("prefetch-B");
    for (const id of ids) expect((await waitStatus(db, id, "completed")).worker).toBe("prefetch-B");
    // Nothing of a waiting job ran on A; every job did a once (its checkpoint kept it from a redo).
    for (const id of ids) expect(calls().filter((c) => c.job === id && c.step === "a")).toHaveLength(1);
  });
});

describe("worker shutdown", () => {
  it("leaves no timer and no connection behind", async () => {
    // Its own pool, closed at the end, so only the worker's resources and this pool's count.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const own = await openDb({ url: db.url, max: 4 });
    const w = await Worker.start(own, { name: "leak-check", concurrency: 2, ...fast });
    const id = await enqueue(db, "sleeper", versions.get("sleeper")!, { ms: 50 });
    await waitStatus(db, id, "completed");
    expect(timers()).toBeGreaterThan(before);
    const listening = async () =>
      (await db.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'runbook-listen:leak-check'")).rows[0].n;
    expect(await listening()).toBe(1);
    await w.stop();
    await own.close();
    await new Promise((r) => setImmediate(r));
    // Timers of earlier tests' pools may have run out meanwhile: never more than before.
    expect(timers()).toBeLessThanOrEqual(before);
    await waitFor("the LISTEN connection to close", async () => (await listening()) === 0, 5_000);
  });
});

describe("operator control of a running job", () => {
  it("a suspend ends the step at its next tick but lets activities in flight finish; a stop, even after a suspend, cancels them", () => {
    const claim = { id: "op-1", lease_epoch: "1", slot: 0, stream_seq: 0 } as ClaimedJob;
    const lease = new JobLease(db.pool, "w-op", claim, () => undefined);
    expect(lease.operatorAction).toBeNull();
    lease.operatorControl("suspend");
    expect(lease.abort.signal.aborted).toBe(true);
    expect(lease.cancel.signal.aborted).toBe(false);
    expect(lease.operatorAction).toBe("suspend");
    expect((lease.abort.signal.reason as Error).message).toBe("the job was suspended by an operator");
    lease.operatorControl("stop");
    expect(lease.cancel.signal.aborted).toBe(true);
    expect((lease.cancel.signal.reason as Error).message).toBe("the job was stopped by an operator");
    expect(lease.lost).toBe(false); // still ours: the runner parks it
  });
});
