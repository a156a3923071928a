// The worker's wake-up timer (runtime/claim-queue.ts, armWakeTimer): after a claim that found
// less than it asked for, the worker asks for the next due time within a poll interval either
// side of now (nextDue, runtime/sql/claim.ts) and sets a timer for it, so a sleep that ends
// before the next poll resumes when it ends, not at the poll.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { nextDue } from "../../runtime/sql/claim.js";
import { DEFAULT_GROUP } from "../../runtime/settings.js";
import { Worker } from "../../runtime/worker.js";
import { freshDb } from "../setup/db.js";
import { enqueue, publish, waitStatus } from "./helpers.js";

let db: Db;
let versions: Map<string, string>;

beforeAll(async () => {
  db = await freshDb(4);
  versions = await publish(db, [
    { name: "noop", body: `return { kind: "return", value: null };` },
    {
      name: "sleeper",
      body: `switch (frame.pc) {
        case 0: frame.pc = 1; return { kind: "sleep", ms: L.ms };
        default: return { kind: "return", value: "slept" };
      }`,
    },
  ]);
});

afterAll(async () => {
  await db?.close();
});

describe("the next due time", () => {
  /** A queued job in its own slot, due `offsetMs` from the database's now. */
  async function dueIn(slot: number, offsetMs: number): Promise<void> {
    await db.pool.query(
      `INSERT INTO jobs (id, runbook, version, slot, status, params, due_at)
       VALUES ('due-' || $1::int, 'noop', $2, $1::int, 'queued', '{}', now() + $3 * interval '1 millisecond')`,
      [slot, versions.get("noop"), offsetMs],
    );
  }

  it("is looked for within the window either side of now, and nowhere else", async () => {
    await dueIn(1, -60_000); // due long ago: a claim takes it, or the next poll
    await dueIn(2, -300);
    await dueIn(3, 300);
    await dueIn(4, 60_000); // due after the next poll: the poll finds it
    const within = (slots: number[]) => nextDue(db.pool, slots, [], DEFAULT_GROUP, 1_000);
    expect((await within([1])).next).toBeNull();
    expect((await within([4])).next).toBeNull();
    const [past, soon] = [await within([2]), await within([3])];
    expect(past.next!.getTime() - past.now.getTime()).toBeLessThan(0);
    expect(soon.next!.getTime() - soon.now.getTime()).toBeGreaterThan(0);
    // The earliest in the window, whatever lies outside it.
    const all = await within([1, 2, 3, 4]);
    expect(all.next!.getTime()).toBe(past.next!.getTime());
    // A refused version is not looked for.
    expect((await nextDue(db.pool, [2, 3], [versions.get("noop")!], DEFAULT_GROUP, 1_000)).next).toBeNull();
    await db.pool.query("DELETE FROM jobs WHERE id LIKE 'due-%'");
  });
});

describe("the wake-up timer", () => {
  it("resumes a sleep that ends before the next poll when it ends, not at the poll", async () => {
    // Polls 20 s apart: only the timer can resume the job within the test's bound.
    const worker = await Worker.start(db, { name: "w-wake", concurrency: 2, heartbeatMs: 500, timeoutMs: 5_000, pollMs: 20_000 });
    try {
      const t0 = performance.now();
      const id = await enqueue(db, "sleeper", versions.get("sleeper")!, { ms: 500 });
      const done = await waitStatus(db, id, "completed", 30_000);
      const s = (performance.now() - t0) / 1000;
      expect(done.result).toBe("slept");
      // 0.5 s of sleep; the poll would have come at 20 s. Generous for a busy machine.
      expect(s).toBeLessThan(10);
    } finally {
      await worker.stop();
    }
  });
});
