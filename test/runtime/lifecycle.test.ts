// Every job state and transition on a real PostgreSQL with one worker: completion, failure with
// its position, sleep, wait with signals (before and after) and timeouts, child jobs, the
// suspend statement, operator suspend/resume/stop, version pinning, and bad stored data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Held } from "../../runtime/claim-queue.js";
import type { Db } from "../../runtime/db/connect.js";
import type { JobLease } from "../../runtime/lease.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { controlJob, ControlRefused, sendSignal } from "../../runtime/sql/control.js";
import { Worker } from "../../runtime/worker.js";
import { freshDb } from "../setup/db.js";
import { calls, gate } from "./fixtures/ledger.js";
import { enqueue, job, LEDGER, outputs, publish, transitions, waitFor, waitStatus } from "./helpers.js";
import type { HandModule } from "./modules.js";

const modules: HandModule[] = [
  { name: "noop", body: `return { kind: "return", value: null };` },
  {
    name: "sleeper",
    body: `switch (frame.pc) {
      case 0: ctx.emit("output", "before"); frame.pc = 1; return { kind: "sleep", ms: L.ms ?? 300 };
      default: ctx.emit("output", "after"); return { kind: "return", value: "slept" };
    }`,
  },
  {
    name: "waiter",
    body: `switch (frame.pc) {
      case 0: frame.pc = 1; return { kind: "wait", signal: "go", timeoutMs: L.timeout ?? null };
      default: return { kind: "return", value: input.value };
    }`,
  },
  {
    name: "suspender",
    body: `switch (frame.pc) {
      case 0: ctx.emit("output", "pausing"); frame.pc = 1; return { kind: "suspend", reason: "check the dashboard" };
      default: return { kind: "return", value: "resumed" };
    }`,
  },
  {
    name: "failer",
    body: `ctx.emit("output", "about to fail");
      return { kind: "throw", error: { message: "disk full", runbook: "failer", file: "runbooks/failer.runbook", line: 3, column: 5, data: null } };`,
  },
  {
    name: "parent",
    calls: ["child"],
    body: `switch (frame.pc) {
      case 0: L.child = await ctx.start("child", { n: L.n }); frame.pc = 1; return { kind: "await", job: L.child };
      default:
        if (input && input.error) return { kind: "throw", error: input.error };
        return { kind: "return", value: { child: L.child, got: input.value } };
    }`,
  },
  {
    // Starts a `waiter` child, then awaits it: the parent parks until the child ends.
    name: "patient_parent",
    calls: ["waiter"],
    body: `switch (frame.pc) {
      case 0: L.child = await ctx.start("waiter", {}); frame.pc = 1; return { kind: "await", job: L.child };
      default:
        if (input && input.error) return { kind: "throw", error: input.error };
        return { kind: "return", value: input.value };
    }`,
  },
  {
    name: "await_nothing",
    body: `switch (frame.pc) {
      case 0: frame.pc = 1; return { kind: "await", job: "no-such-job" };
      default: return input && input.error ? { kind: "throw", error: input.error } : { kind: "return", value: input.value };
    }`,
  },
  {
    name: "child",
    body: `if (L.n < 0) return { kind: "throw", error: { message: "negative", runbook: "child", file: "child.runbook", line: 2, column: 3, data: null } };
      return { kind: "return", value: L.n * 2 };`,
  },
  {
    name: "gated",
    uses: { led: LEDGER },
    body: `switch (frame.pc) {
      case 0: await ctx.activity("led", "step", { step: "a", hold: L.gate }); frame.pc = 1; return { kind: "checkpoint", label: "after-a" };
      default: return { kind: "return", value: "done" };
    }`,
  },
  {
    // After the gated call, loops with no checkpoint (ticking, as emitted loops do) until the
    // test sets globalThis.tickerDone.
    name: "ticker",
    uses: { led: LEDGER },
    body: `await ctx.activity("led", "step", { step: "a", hold: L.gate });
      while (!globalThis.tickerDone) await ctx.tick(1, 1);
      return { kind: "return", value: "done" };`,
  },
];

let db: Db;
let versions: Map<string, string>;
let worker: Worker;

/** The lease of a job the worker holds (its internals: what the worker has heard of the job). */
function heldLease(id: string): JobLease | undefined {
  return (worker as unknown as { jobs: { held: Map<string, Held> } }).jobs.held.get(id)?.lease;
}

beforeAll(async () => {
  db = await freshDb();
  versions = await publish(db, modules);
  worker = await Worker.start(db, { name: "w-lifecycle", concurrency: 4, heartbeatMs: 200, timeoutMs: 2_000, pollMs: 100 });
});

afterAll(async () => {
  await worker?.stop();
  await db?.close();
});

const start = (runbook: string, params = {}, id?: string) => enqueue(db, runbook, versions.get(runbook)!, params, id);

describe("job lifecycle", () => {
  it("runs a job to completion and records every transition with the worker", async () => {
    const id = await start("noop");
    const done = await waitStatus(db, id, "completed");
    expect(done.result).toBeNull();
    expect(done.finished_at).not.toBeNull();
    expect(await transitions(db, id)).toEqual(["-->queued", "queued->running", "running->completed"]);
  });

  it("stores a failure with its .runbook position and the streams before it", async () => {
    const id = await start("failer");
    const failed = await waitStatus(db, id, "failed");
    expect(failed.error).toMatchObject({ message: "disk full", file: "runbooks/failer.runbook", line: 3, column: 5 });
    expect(await outputs(db, id)).toEqual(["about to fail"]);
  });

  it("sleeps as a durable timer that frees the worker, then continues", async () => {
    const id = await start("sleeper", { ms: 400 });
    const sleeping = await waitStatus(db, id, "sleeping");
    expect(sleeping.wait_until!.getTime()).toBeGreaterThan(sleeping.updated_at.getTime() + 300);
    expect(sleeping.checkpoint_label).toBe("sleep");
    expect(worker.runningJobs).not.toContain(id);
    const done = await waitStatus(db, id, "completed");
    expect(done.result).toBe("slept");
    expect(await outputs(db, id)).toEqual(["before", "after"]);
    expect(await transitions(db, id)).toEqual(["-->queued", "queued->running", "running->sleeping", "sleeping->running", "running->completed"]);
  });

  it("keeps a signal sent before the wait and hands it to the first matching wait", async () => {
    const id = "signal-early";
    // Queued suspended, so it cannot reach its wait before the signals are sent.
    await enqueue(db, "waiter", versions.get("waiter")!, {}, id, (c) => controlJob(c, id, "suspend", "test"));
    await withTransaction(db.pool, (c) => sendSignal(c, id, "other", "ignored"));
    await withTransaction(db.pool, (c) => sendSignal(c, id, "go", { n: 1 }));
    await withTransaction(db.pool, (c) => sendSignal(c, id, "go", { n: 2 }));
    expect((await job(db, id)).status).toBe("suspended");
    await withTransaction(db.pool, (c) => controlJob(c, id, "resume", "test"));
    const done = await waitStatus(db, id, "completed");
    expect(done.result).toEqual({ n: 1 });
    const { rows } = await db.pool.query("SELECT name, payload, consumed_at IS NOT NULL AS consumed FROM signals WHERE job_id = $1 ORDER BY id", [id]);
    expect(rows).toEqual([
      { name: "other", payload: "ignored", consumed: false },
      { name: "go", payload: { n: 1 }, consumed: true },
      { name: "go", payload: { n: 2 }, consumed: false },
    ]);
  });

  it("wakes a waiting job when its signal arrives", async () => {
    const id = await start("waiter");
    const waiting = await waitStatus(db, id, "waiting");
    expect(waiting.wait_signal).toBe("go");
    expect(waiting.checkpoint_label).toBe("wait go");
    expect(waiting.due_at).toBeNull();
    const sent = await withTransaction(db.pool, (c) => sendSignal(c, id, "go", "approved"));
    expect(sent.woke).toBe(true);
    expect((await waitStatus(db, id, "completed")).result).toBe("approved");
    expect(await transitions(db, id)).toEqual(["-->queued", "queued->running", "running->waiting", "waiting->queued", "queued->running", "running->completed"]);
  });

  it("gives null to a wait that times out", async () => {
    const id = await start("waiter", { timeout: 300 });
    await waitStatus(db, id, "waiting");
    const done = await waitStatus(db, id, "completed");
    expect(done.result).toBeNull();
    expect((await db.pool.query("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason)).toContain("wait timed out");
  });

  it("starts a child job and awaits its result", async () => {
    const id = await start("parent", { n: 21 });
    const done = await waitStatus(db, id, "completed");
    expect(done.result).toEqual({ child: `${id}/0`, got: 42 });
    const child = await job(db, `${id}/0`);
    expect(child).toMatchObject({ status: "completed", parent_id: id, runbook: "child", version: versions.get("parent") });
  });

  it("wakes a parent parked on await when its child ends later", async () => {
    const id = await start("patient_parent");
    const parked = await waitStatus(db, id, "waiting");
    expect(parked.await_job).toBe(`${id}/0`);
    const child = await waitStatus(db, `${id}/0`, "waiting");
    expect(child.awaited).toBe(true);
    await withTransaction(db.pool, (c) => sendSignal(c, `${id}/0`, "go", "from the child"));
    expect((await waitStatus(db, id, "completed")).result).toBe("from the child");
    const reasons = (await db.pool.query("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows.map((r) => r.reason);
    expect(reasons).toContain(`awaited job ${id}/0 ended`);
  });

  it("raises an error in a job that awaits an unknown job", async () => {
    const id = await start("await_nothing");
    expect((await waitStatus(db, id, "failed")).error!.message).toBe("no job no-such-job to await");
  });

  it("raises a failed child's error in the awaiting parent", async () => {
    const id = await start("parent", { n: -1 });
    const failed = await waitStatus(db, id, "failed");
    expect(failed.error).toMatchObject({ message: "negative", runbook: "child", line: 2, column: 3 });
  });

  it("suspends on the suspend statement until an operator resumes it", async () => {
    const id = await start("suspender");
    await waitStatus(db, id, "suspended");
    const r = await withTransaction(db.pool, (c) => controlJob(c, id, "resume", "test"));
    expect(r.status).toBe("queued");
    expect((await waitStatus(db, id, "completed")).result).toBe("resumed");
    const history = (await db.pool.query("SELECT to_status, reason FROM job_history WHERE job_id = $1 ORDER BY id", [id])).rows;
    expect(history).toContainEqual({ to_status: "suspended", reason: "suspend: check the dashboard" });
    expect(history).toContainEqual({ to_status: "queued", reason: "resumed by test" });
  });

  it("suspends a running job at its next checkpoint, and stops one at once when it is not running", async () => {
    const id = await start("gated", { gate: "lifecycle-suspend" });
    await gate("lifecycle-suspend").reached;
    expect((await job(db, id)).status).toBe("running");
    const requested = await withTransaction(db.pool, (c) => controlJob(c, id, "suspend", "test"));
    expect(requested.outcome).toMatch(/next checkpoint/);
    expect((await job(db, id)).status).toBe("running");
    gate("lifecycle-suspend").release();
    const suspended = await waitStatus(db, id, "suspended");
    expect(suspended.checkpoint_label).toBe("after-a");
    expect(suspended.control).toBeNull();
    // Not running now: stop takes effect at once.
    const stopped = await withTransaction(db.pool, (c) => controlJob(c, id, "stop", "test"));
    expect(stopped.status).toBe("stopped");
    expect((await job(db, id)).finished_at).not.toBeNull();
    await expect(withTransaction(db.pool, (c) => controlJob(c, id, "resume", "test"))).rejects.toThrow(ControlRefused);
    await expect(withTransaction(db.pool, (c) => sendSignal(c, id, "go", null))).rejects.toThrow(/already ended/);
  });

  it("stops a running job at its next checkpoint", async () => {
    const id = await start("gated", { gate: "lifecycle-stop" });
    await gate("lifecycle-stop").reached;
    await withTransaction(db.pool, (c) => controlJob(c, id, "stop", "test"));
    gate("lifecycle-stop").release();
    const stopped = await waitStatus(db, id, "stopped");
    expect(stopped.result).toBeNull();
    expect(await transitions(db, id)).toEqual(["-->queued", "queued->running", "running->stopped"]);
  });

  it("a suspend cancelled by resume before the looping job's next tick: the job goes on from its latest checkpoint", async () => {
    const id = await start("ticker", { gate: "lifecycle-cancel" });
    await gate("lifecycle-cancel").reached;
    await withTransaction(db.pool, (c) => controlJob(c, id, "suspend", "test"));
    // The worker hears `control` and ends the step at its next tick; the call in flight at the
    // gate is let finish (a suspend cancels nothing). Then the operator changes their mind.
    await waitFor("the worker to hear the suspend", async () => heldLease(id)?.operatorAction === "suspend");
    expect((await withTransaction(db.pool, (c) => controlJob(c, id, "resume", "test"))).outcome).toBe("pending suspend cancelled");
    gate("lifecycle-cancel").release();
    await waitFor("the job to be queued again and claimed", async () => (await transitions(db, id)).length >= 4);
    (globalThis as { tickerDone?: boolean }).tickerDone = true;
    expect((await waitStatus(db, id, "completed")).result).toBe("done");
    expect(await transitions(db, id)).toEqual(["-->queued", "queued->running", "running->queued", "queued->running", "running->completed"]);
    const requeued = (await db.pool.query("SELECT reason FROM job_history WHERE job_id = $1 AND to_status = 'queued' ORDER BY id", [id])).rows;
    expect(requeued.at(-1).reason).toBe("operator suspend cancelled: continues from its latest checkpoint");
    // No checkpoint before the loop: the gated call was redone from the start.
    expect(calls().filter((c) => c.job === id).length).toBe(2);
  });

  it("suspends a sleeping job at once and, when resumed early, sleeps on to its original end", async () => {
    // A 5 s sleep: suspended and resumed within it by three statements (checked below).
    const id = await start("sleeper", { ms: 5_000 });
    const sleeping = await waitStatus(db, id, "sleeping");
    await withTransaction(db.pool, (c) => controlJob(c, id, "suspend", "test"));
    expect((await job(db, id)).status).toBe("suspended");
    const resumedAt = await withTransaction(db.pool, async (c) => {
      await controlJob(c, id, "resume", "test");
      return (await c.query<{ now: Date }>("SELECT now()")).rows[0].now;
    });
    expect(resumedAt.getTime()).toBeLessThan(sleeping.wait_until!.getTime()); // resumed early
    await waitStatus(db, id, "sleeping");
    const done = await waitStatus(db, id, "completed");
    const end = (await db.pool.query("SELECT at FROM job_history WHERE job_id = $1 AND reason = 'sleep ended'", [id])).rows[0].at as Date;
    expect(end.getTime()).toBeGreaterThanOrEqual(sleeping.wait_until!.getTime());
    expect(done.result).toBe("slept");
  });

  it("refuses operator commands for unknown jobs", async () => {
    await expect(withTransaction(db.pool, (c) => controlJob(c, "no-such-job", "stop", "test"))).rejects.toThrow("no job no-such-job");
    await expect(withTransaction(db.pool, (c) => sendSignal(c, "no-such-job", "go", null))).rejects.toThrow("no job no-such-job");
  });
});

describe("versions and bad stored data", () => {
  it("republishing unchanged code is a no-op; a running job stays on the version it started with", async () => {
    const v1: HandModule = {
      name: "pinned",
      body: `switch (frame.pc) { case 0: frame.pc = 1; return { kind: "wait", signal: "go", timeoutMs: null }; default: return { kind: "return", value: "v1" }; }`,
    };
    const v2: HandModule = { ...v1, body: v1.body.replace('"v1"', '"v2"') };
    const first = (await publish(db, [v1])).get("pinned")!;
    expect((await publish(db, [v1])).get("pinned")).toBe(first);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM versions WHERE runbook = 'pinned'")).rows[0].n).toBe(1);
    const old = await enqueue(db, "pinned", first);
    await waitStatus(db, old, "waiting");
    const second = (await publish(db, [v2])).get("pinned")!;
    expect(second).not.toBe(first);
    expect((await db.pool.query("SELECT version FROM runbooks WHERE name = 'pinned'")).rows[0].version).toBe(second);
    const fresh = await enqueue(db, "pinned", second);
    await waitStatus(db, fresh, "waiting");
    for (const id of [old, fresh]) await withTransaction(db.pool, (c) => sendSignal(c, id, "go", null));
    expect((await waitStatus(db, old, "completed")).result).toBe("v1");
    expect((await waitStatus(db, fresh, "completed")).result).toBe("v2");
  });

  it("fails a job whose checkpoint is corrupt, while the others keep running", async () => {
    const bad = await enqueue(db, "noop", versions.get("noop")!, {}, "corrupt-1", (c) =>
      c.query(`UPDATE jobs SET state = '{"frames": "nonsense"}' WHERE id = 'corrupt-1'`),
    );
    const good = await start("noop");
    const failed = await waitStatus(db, bad, "failed");
    expect(failed.error!.message).toMatch(/checkpoint is corrupt/);
    await waitStatus(db, good, "completed");
  });

  it("fails a job whose version is missing from the database", async () => {
    const id = await enqueue(db, "noop", "0123456789abcdef0123456789abcdef", {});
    const failed = await waitStatus(db, id, "failed");
    expect(failed.error!.message).toBe("version 0123456789ab of this job's runbook is missing from the database");
  });
});
