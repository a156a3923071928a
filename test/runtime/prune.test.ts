// Retention: finished jobs older than the cut-off go with their streams, history and signals;
// everything a live job still needs stays; a prune never waits on a row a worker holds; and
// `runbook prune` does it from the command line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { prune, retentionPass } from "../../runtime/retention.js";
import { claimJobs } from "../../runtime/sql/claim.js";
import { completeJobs } from "../../runtime/sql/complete.js";
import { countPrunable } from "../../runtime/sql/prune.js";
import { freshDb } from "../setup/db.js";
import { enqueue, publish, waitFor } from "./helpers.js";
import { Worker } from "../../runtime/worker.js";
import { runbook } from "./process.js";

const DAY = 86_400_000;
let db: Db;
let version: string;
let all: number[];

beforeAll(async () => {
  db = await freshDb(6);
  version = (await publish(db, [{ name: "noop", body: `return { kind: "return", value: null };` }])).get("noop")!;
  all = Array.from({ length: db.slotCount }, (_, i) => i);
});

afterAll(async () => {
  await db?.close();
});

/** A job run to `status` through the real claim and completion, with a stream record and a signal, ended `daysAgo` days ago. */
async function ended(id: string, daysAgo: number, parent: string | null = null): Promise<string> {
  await enqueue(db, "noop", version, {}, id, async (c) => {
    if (parent) await c.query("UPDATE jobs SET parent_id = $2 WHERE id = $1", [id, parent]);
    await c.query("INSERT INTO signals (job_id, name, payload) VALUES ($1, 'late', '1')", [id]);
  });
  const slot = (await db.pool.query("SELECT slot FROM jobs WHERE id = $1", [id])).rows[0].slot;
  const [claim] = (await claimJobs(db.pool, "w", [slot], 100, 60_000)).filter((c) => c.id === id);
  await completeJobs(db.pool, "w", [{ id, epoch: claim.lease_epoch, status: "completed", result: null, error: null, records: [{ seq: 1, stream: "output", value: "hi" }], consumeSignal: null, reason: "done" }]);
  await db.pool.query("UPDATE jobs SET finished_at = now() - $2 * interval '1 day' WHERE id = $1", [id, daysAgo]);
  return id;
}

async function rowsOf(id: string) {
  const { rows } = await db.pool.query(
    `SELECT (SELECT count(*) FROM jobs WHERE id = $1)::int AS jobs, (SELECT count(*) FROM job_streams WHERE job_id = $1)::int AS streams,
            (SELECT count(*) FROM job_history WHERE job_id = $1)::int AS history, (SELECT count(*) FROM signals WHERE job_id = $1)::int AS signals`,
    [id],
  );
  return rows[0];
}

describe("pruning finished jobs", () => {
  it("removes old finished jobs with their streams, history and signals, and keeps the rest", async () => {
    const old = await ended("p-old", 40);
    const recent = await ended("p-recent", 5);
    const queued = await enqueue(db, "noop", version, {}, "p-queued");
    await db.pool.query("UPDATE jobs SET created_at = now() - interval '90 days' WHERE id = $1", [queued]);
    // Its enqueue; its first claim and completion are in the job row (migration 0008).
    expect(await rowsOf(old)).toEqual({ jobs: 1, streams: 1, history: 1, signals: 1 });

    expect(await countPrunable(db.pool, 30 * DAY)).toBe(1);
    expect(await prune(db.pool, { olderThanMs: 30 * DAY })).toBe(1);
    expect(await rowsOf(old)).toEqual({ jobs: 0, streams: 0, history: 0, signals: 0 });
    expect((await rowsOf(recent)).jobs).toBe(1);
    expect((await rowsOf(queued)).jobs).toBe(1);
    await db.pool.query("DELETE FROM jobs WHERE id IN ($1, $2)", [recent, queued]);
  });

  it("keeps an old child whose parent has not ended, and an old job a live job awaits", async () => {
    const parent = await enqueue(db, "noop", version, {}, "p-parent");
    const child = await ended("p-parent/1", 40, parent);
    const awaited = await ended("p-awaited", 40);
    const waiter = await enqueue(db, "noop", version, {}, "p-waiter", (c) =>
      c.query("UPDATE jobs SET status = 'waiting', due_at = NULL, await_job = $2 WHERE id = $1", ["p-waiter", "p-awaited"]),
    );
    expect(await prune(db.pool, { olderThanMs: 30 * DAY })).toBe(0);
    expect((await rowsOf(child)).jobs).toBe(1);
    expect((await rowsOf(awaited)).jobs).toBe(1);
    // Once they have ended too, the children and the awaited job go.
    await db.pool.query("DELETE FROM jobs WHERE id IN ($1, $2)", [parent, waiter]);
    expect(await prune(db.pool, { olderThanMs: 30 * DAY })).toBe(2);
  });

  it("works in batches and never waits on a row someone holds", async () => {
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await ended(`p-batch-${i}`, 31 + i));
    const holder = await db.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", [ids[0]]);
      // Batches of 5: 11 removed in three statements, the locked one skipped, not waited for.
      expect(await prune(db.pool, { olderThanMs: 30 * DAY, batch: 5, pauseMs: 1 })).toBe(11);
      await holder.query("COMMIT");
    } finally {
      holder.release();
    }
    expect(await retentionPass(db.pool, { olderThanMs: 30 * DAY })).toBe(1);
  });

  it("lets only one worker run a retention pass at a time", async () => {
    const other = await db.pool.connect();
    try {
      await other.query("SELECT pg_advisory_lock(7243003)");
      expect(await retentionPass(db.pool, { olderThanMs: 30 * DAY })).toBeNull();
      await other.query("SELECT pg_advisory_unlock(7243003)");
    } finally {
      other.release();
    }
    expect(await retentionPass(db.pool, { olderThanMs: 30 * DAY })).toBe(0);
  });

  it("a worker removes jobs past its retention by itself", async () => {
    const old = await ended("p-worker", 3);
    const lines: string[] = [];
    const w = await Worker.start(db, { name: "retainer", retentionMs: 2 * DAY, retentionEveryMs: 50, log: (l) => lines.push(l) });
    try {
      // The pass logs after its delete commits and its lock is released: wait for the line.
      await waitFor("the worker's retention pass", async () => lines.some((l) => /retention: removed 1 finished job older than 2 days/.test(l)));
      expect((await rowsOf(old)).jobs).toBe(0);
    } finally {
      await w.stop();
    }
  });

  it("runbook prune removes them from the command line and refuses a bad duration in one line", async () => {
    await ended("p-cli", 10);
    const env = { DATABASE_URL: db.url };
    const dry = await runbook(["prune", "--older-than", "7d", "--dry-run"], { env });
    expect(dry).toMatchObject({ code: 0, stdout: "1 finished job ended more than 7d ago would be removed\n" });
    const r = await runbook(["prune", "--older-than", "7d", "--json"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ pruned: 1, olderThan: "7d", dryRun: false });
    const bad = await runbook(["prune", "--older-than", "soon"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('runbook: --older-than: "soon" is not a duration (like 30d, 12h, 90m)\n');
  });
});
