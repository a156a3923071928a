// Groups, priority and concurrency keys in the database (migration 0011), without workers: how a
// key is computed, who holds a place, how places pass on, and the races between the statements
// that give and free places, driven with explicit transactions (test/fault/placement.test.ts
// runs the same with real worker processes).
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { claimJobs } from "../../runtime/sql/claim.js";
import { completeJobs } from "../../runtime/sql/complete.js";
import { controlJob } from "../../runtime/sql/control.js";
import { insertChildJob, insertJobs } from "../../runtime/sql/enqueue.js";
import { queuedReason } from "../../runtime/sql/placement.js";
import { freshDb } from "../setup/db.js";
import { claimPlan, job, pickedScan, publish } from "./helpers.js";
import { param, type HandModule } from "./modules.js";

const NOOP = `return { kind: "return", value: null };`;
const patch: HandModule = {
  name: "patch",
  body: NOOP,
  params: [param("host", "string", { kind: "string" })],
  placement: { concurrency: { key: [{ param: ["host"] }], limit: 1 } },
};
const pool2: HandModule = {
  name: "pool2",
  body: NOOP,
  params: [param("p", "{name: string}", { kind: "record", fields: { name: { kind: "string" } } })],
  placement: { concurrency: { key: [{ text: "pool-" }, { param: ["p", "name"] }], limit: 2 } },
};
const whole: HandModule = { name: "whole", body: NOOP, placement: { concurrency: { key: null, limit: 1 } } };
const grouped: HandModule = { name: "grouped", body: NOOP, placement: { group: "dc1" } };
const parent: HandModule = { name: "parent", body: NOOP, calls: ["patch", "grouped"] };
const plain: HandModule = { name: "plain", body: NOOP };

let db: Db;
let versions: Map<string, string>;
const ALL: number[] = [];

beforeAll(async () => {
  db = await freshDb(12);
  versions = await publish(db, [patch, pool2, whole, grouped, parent, plain]);
  ALL.push(...Array.from({ length: db.slotCount }, (_, i) => i));
});
afterAll(async () => {
  await db?.close();
});

async function add(runbook: string, params: Record<string, unknown> = {}, extra: { group?: string; priority?: number } = {}, q: pg.ClientBase | pg.Pool = db.pool): Promise<string> {
  const id = randomUUID();
  await insertJobs(q, [{ id, runbook, version: versions.get(runbook)!, params: params as never, ...extra }], "test");
  return id;
}

async function stop(id: string): Promise<void> {
  await withTransaction(db.pool, (c) => controlJob(c, id, "stop", "test"));
}

/** Per key: its holders and waiters, and whether a place is free while someone waits. */
async function keyState(key: string): Promise<{ holders: string[]; waiters: string[] }> {
  const { rows } = await db.pool.query<{ id: string; key_place: number | null }>(
    "SELECT id, key_place FROM jobs WHERE concurrency_key = $1 AND status NOT IN ('completed', 'failed', 'stopped') ORDER BY created_at, id",
    [key],
  );
  return { holders: rows.filter((r) => r.key_place !== null).map((r) => r.id), waiters: rows.filter((r) => r.key_place === null).map((r) => r.id) };
}

describe("concurrency keys", () => {
  it("computes the key from the parameters when the job is queued; a job over the limit waits with no due time", async () => {
    const a = await add("patch", { host: "web1" });
    const b = await add("patch", { host: "web1" });
    const other = await add("patch", { host: "web2" });
    const ja = await job(db, a);
    expect([ja.concurrency_key, ja.concurrency_limit, ja.key_place, ja.due_at !== null]).toEqual(["patch:web1", 1, 0, true]);
    const jb = await job(db, b);
    expect([jb.status, jb.key_place, jb.due_at]).toEqual(["queued", null, null]);
    expect((await job(db, other)).key_place).toBe(0); // another key is not held back
    expect(await queuedReason(db.pool, jb)).toEqual({ kind: "key", key: "patch:web1", limit: 1, holders: [{ id: a, status: "queued" }] });
    // Nothing claims the waiter, however often one asks.
    for (let i = 0; i < 3; i++) expect((await claimJobs(db.pool, "w", ALL, 100, 60_000)).map((c) => c.id)).not.toContain(b);

    // Fields and literals; no key at all means the runbook's name.
    const p = await add("pool2", { p: { name: "blue" } });
    expect((await job(db, p)).concurrency_key).toBe("pool2:pool-blue");
    const w = await add("whole");
    expect((await job(db, w)).concurrency_key).toBe("whole");
  });

  it("passes a freed place to the waiter queued first (higher priority first), in the statement that ends the holder", async () => {
    const key = "pool2:pool-pass";
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await add("pool2", { p: { name: "pass" } }));
    const urgent = await add("pool2", { p: { name: "pass" } }, { priority: 5 });
    expect(await keyState(key)).toEqual({ holders: ids.slice(0, 2), waiters: [...ids.slice(2), urgent] });
    // A waiter stopped gives nothing back; a holder stopped passes its place on.
    await stop(ids[3]);
    expect((await keyState(key)).holders).toEqual(ids.slice(0, 2));
    await stop(ids[0]);
    expect(await keyState(key)).toEqual({ holders: [ids[1], urgent], waiters: [ids[2]] });
    // A completion (the worker's statement) frees the place the same way.
    const [claim] = (await claimJobs(db.pool, "w", ALL, 100, 60_000)).filter((c) => c.id === ids[1]);
    await completeJobs(db.pool, "w", [{ id: claim.id, epoch: claim.lease_epoch, status: "completed", result: null, error: null, records: [], consumeSignal: null, reason: "done" }]);
    expect(await keyState(key)).toEqual({ holders: [ids[2], urgent], waiters: [] });
    expect((await job(db, ids[1])).key_place).toBeNull();
  });

  it("a suspended job keeps its place; a waiter suspended and resumed waits again", async () => {
    const key = "patch:susp";
    const [a, b] = [await add("patch", { host: "susp" }), await add("patch", { host: "susp" })];
    await withTransaction(db.pool, (c) => controlJob(c, a, "suspend", "test"));
    expect(await keyState(key)).toEqual({ holders: [a], waiters: [b] });
    await withTransaction(db.pool, (c) => controlJob(c, b, "suspend", "test"));
    await withTransaction(db.pool, (c) => controlJob(c, b, "resume", "test"));
    const jb = await job(db, b);
    expect([jb.status, jb.key_place, jb.due_at]).toEqual(["queued", null, null]);
    await withTransaction(db.pool, (c) => controlJob(c, a, "resume", "test"));
    expect((await job(db, a)).due_at).not.toBeNull();
    await stop(a);
    expect(await keyState(key)).toEqual({ holders: [b], waiters: [] });
  });

  it("refuses a second holder of a place, and a running job without one, whoever writes it", async () => {
    const a = await add("patch", { host: "rules" });
    const b = await add("patch", { host: "rules" });
    await expect(db.pool.query("UPDATE jobs SET key_place = 0, due_at = now() WHERE id = $1", [b])).rejects.toThrow(/jobs_key_places/);
    await expect(db.pool.query("UPDATE jobs SET key_place = 1, due_at = now() WHERE id = $1", [b])).rejects.toThrow(/jobs_key_place_under_limit/);
    await expect(db.pool.query("UPDATE jobs SET due_at = now() WHERE id = $1", [b])).rejects.toThrow(/jobs_key_held_when_due/);
    await expect(db.pool.query("UPDATE jobs SET status = 'sleeping', due_at = now() WHERE id = $1", [b])).rejects.toThrow(/jobs_key_held/);
    await stop(a);
    await stop(b);
  });
});

describe("concurrency key races (explicit transactions)", () => {
  /** Resolves once the backend `pid` waits for a lock (here: the key lock of another transaction). */
  async function blocked(pid: number): Promise<void> {
    for (;;) {
      const { rows } = await db.pool.query<{ w: string | null }>("SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1", [pid]);
      if (rows[0]?.w === "Lock") return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function twoClients<T>(fn: (a: pg.PoolClient, b: pg.PoolClient, pidB: number) => Promise<T>): Promise<T> {
    const [a, b] = [await db.pool.connect(), await db.pool.connect()];
    try {
      const pidB = (await b.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      return await fn(a, b, pidB);
    } finally {
      await a.query("ROLLBACK").catch(() => undefined);
      await b.query("ROLLBACK").catch(() => undefined);
      a.release();
      b.release();
    }
  }

  it("two transactions queueing jobs of one key at once: exactly one holds it (200 times)", async () => {
    for (let i = 0; i < 200; i++) {
      const host = `twice-${i}`;
      const [x, y] = await twoClients(async (a, b, pidB) => {
        await a.query("BEGIN");
        await b.query("BEGIN");
        const x = await add("patch", { host }, {}, a);
        // b's trigger waits for a's key lock, taken before a commits: the interleaving that
        // would hand out the place twice if each read the places in its own old snapshot.
        const y = add("patch", { host }, {}, b);
        await blocked(pidB);
        await a.query("COMMIT");
        const yid = await y;
        await b.query("COMMIT");
        return [x, yid];
      });
      expect(await keyState(`patch:${host}`)).toEqual({ holders: [x], waiters: [y] });
    }
  });

  it("a holder ending while a job of its key is queued, in either order: the place is never left free with a waiter (200 times each)", async () => {
    for (let i = 0; i < 400; i++) {
      const host = `handoff-${i}`;
      const holder = await add("patch", { host });
      const endFirst = i % 2 === 0;
      const queued = await twoClients(async (a, b, pidB) => {
        await a.query("BEGIN");
        await b.query("BEGIN");
        await a.query("SELECT set_config('runbook.actor', 'test', true)");
        let id: Promise<string>;
        if (endFirst) {
          // The holder's end commits after the new job's insert has read the places.
          await controlJob(a, holder, "stop", "test");
          id = add("patch", { host }, {}, b);
          await blocked(pidB);
          await a.query("COMMIT");
          const got = await id;
          await b.query("COMMIT");
          return got;
        }
        const got = await add("patch", { host }, {}, a); // waits: the holder holds the place
        const ending = controlJob(b, holder, "stop", "test");
        await blocked(pidB);
        await a.query("COMMIT");
        await ending;
        await b.query("COMMIT");
        return got;
      });
      expect(await keyState(`patch:${host}`)).toEqual({ holders: [queued], waiters: [] });
    }
  });

  it("free-running inserts, claims, completions and stops on three connections: never above the limit, never a free place with a waiter", async () => {
    const keys = ["free-a", "free-b"];
    const worker = async (n: number) => {
      for (let i = 0; i < 150; i++) {
        const r = (i * 7 + n * 13) % 5;
        if (r <= 1) await add("pool2", { p: { name: keys[(i + n) % 2] } }, { priority: i % 3 });
        else if (r === 2) {
          const claims = await claimJobs(db.pool, `w${n}`, ALL, 3, 60_000);
          await completeJobs(db.pool, `w${n}`, claims.map((c) => ({ id: c.id, epoch: c.lease_epoch, status: "completed" as const, result: null, error: null, records: [], consumeSignal: null, reason: "done" })));
        } else {
          const { rows } = await db.pool.query<{ id: string }>(
            "SELECT id FROM jobs WHERE runbook = 'pool2' AND status IN ('queued', 'suspended') ORDER BY random() LIMIT 1",
          );
          if (rows[0]) await withTransaction(db.pool, (c) => controlJob(c, rows[0].id, r === 3 ? "stop" : "suspend", "test")).catch(() => undefined);
        }
      }
    };
    await Promise.all([worker(1), worker(2), worker(3)]);
    for (const name of keys) {
      const { holders, waiters } = await keyState(`pool2:pool-${name}`);
      expect(holders.length).toBeLessThanOrEqual(2);
      const { rows } = await db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM jobs WHERE concurrency_key = $1 AND key_place IS NULL AND status = 'queued'",
        [`pool2:pool-${name}`],
      );
      if (holders.length < 2) expect(rows[0].n).toBe(0);
      expect(waiters.length).toBeGreaterThanOrEqual(rows[0].n);
    }
  });
});

describe("groups and priority", () => {
  it("a job goes to its runbook's declared group unless the start names one; a child inherits its parent's group and priority", async () => {
    expect((await job(db, await add("grouped"))).worker_group).toBe("dc1");
    expect((await job(db, await add("grouped", {}, { group: "dc2" }))).worker_group).toBe("dc2");
    const p = await add("parent", {}, { group: "dc3", priority: 7 });
    // Only a worker of group dc3 claims it.
    expect((await claimJobs(db.pool, "w", ALL, 100, 60_000)).map((c) => c.id)).not.toContain(p);
    const [claim] = (await claimJobs(db.pool, "w3", ALL, 100, 60_000, [], "dc3")).filter((c) => c.id === p);
    expect(claim.priority).toBe(7);
    const lease = { id: p, epoch: claim.lease_epoch, worker: "w3" };
    expect(await insertChildJob(db.pool, lease, { id: `${p}/1`, runbook: "patch", params: { host: "child" } })).toBe("inserted");
    expect(await insertChildJob(db.pool, lease, { id: `${p}/2`, runbook: "grouped", params: {} })).toBe("inserted");
    const child = await job(db, `${p}/1`);
    expect([child.worker_group, child.priority, child.concurrency_key, child.key_place]).toEqual(["dc3", 7, "patch:child", 0]);
    expect((await job(db, `${p}/2`)).worker_group).toBe("dc1"); // its runbook says so
  });

  it("claims the highest priority first, then the oldest", async () => {
    const ids: string[] = [];
    for (const priority of [0, 5, -1, 5, 2]) ids.push(await add("plain", {}, { group: "prio", priority }));
    const order: string[] = [];
    for (;;) {
      const got = await claimJobs(db.pool, "p", ALL, 1, 60_000, [], "prio");
      if (got.length === 0) break;
      order.push(got[0].id);
    }
    expect(order).toEqual([ids[1], ids[3], ids[4], ids[0], ids[2]]);
    // One batch comes back in the same order.
    const again: string[] = [];
    for (const priority of [1, 3, 2]) again.push(await add("plain", {}, { group: "prio2", priority }));
    expect((await claimJobs(db.pool, "p", ALL, 10, 60_000, [], "prio2")).map((c) => c.id)).toEqual([again[1], again[2], again[0]]);
  });

  it("keeps the claim an index scan that stops after LIMIT rows on a big queue (EXPLAIN ANALYZE)", async () => {
    // 60,000 due jobs in three priorities and two groups, and 20,000 leases not yet expired at
    // the highest priority (running jobs: due later), which the scan must step over.
    await db.pool.query(
      `INSERT INTO jobs (id, runbook, version, slot, status, params, due_at, worker_group, priority, worker, lease_epoch)
       SELECT 'big-' || g, 'plain', $1, runbook_slot('big-' || g), CASE WHEN g <= 20000 THEN 'running' ELSE 'queued' END, '{}',
              CASE WHEN g <= 20000 THEN now() + interval '1 hour' ELSE now() - interval '1 hour' + g * interval '1 ms' END,
              CASE WHEN g % 2 = 0 THEN 'big' ELSE 'default' END, CASE WHEN g <= 20000 THEN 9 ELSE g % 3 END,
              CASE WHEN g <= 20000 THEN 'elsewhere' END, CASE WHEN g <= 20000 THEN 1 ELSE 0 END
       FROM generate_series(1, 80000) g`,
      [versions.get("plain")],
    );
    await db.pool.query("ANALYZE jobs");
    // The claim itself, for a worker owning half the slots, in both plans a prepared statement
    // gets: its scan walks jobs_claim_order (no sort) and stops at the 50th row it locks.
    const half = ALL.filter((s) => s % 2 === 0);
    for (const mode of ["force_custom_plan", "force_generic_plan"] as const) {
      const plan = await claimPlan(db, mode, { slots: half, limit: 50, group: "big" });
      if (process.env.SHOW_PLAN) console.log(plan);
      const scan = pickedScan(plan);
      expect(scan.line).toMatch(/Index Scan using jobs_claim_order/);
      expect(scan.rows).toBe(50);
      expect(plan).not.toMatch(/Seq Scan/);
    }
    await db.pool.query("DELETE FROM jobs WHERE id LIKE 'big-%'");
  });
});
