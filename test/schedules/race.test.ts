// Two fire passes for the same tick, interleaved by explicit transactions: never two jobs.
// 1. The normal path: the second pass's FOR UPDATE SKIP LOCKED does not see the schedule the
//    first one holds, whichever commits first.
// 2. The row lock defeated (both passes planned from the same snapshot of the schedule row, as a
//    writer that forgot the lock would): the second insert of the tick's job waits on the first
//    one's uncommitted key (checked in pg_locks, not hoped for), then does nothing. And a job for
//    the tick under another id is refused by the unique index on (schedule, schedule_tick).
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import type { ScheduleRow } from "../../runtime/rows.js";
import { fireSchedule, type PassContext } from "../../runtime/schedules.js";
import { lockDueSchedules } from "../../runtime/sql/schedules.js";
import { freshDb } from "../setup/db.js";

let db: Db;
let a: pg.PoolClient;
let b: pg.PoolClient;
beforeAll(async () => {
  db = await freshDb(4);
  await db.pool.query(
    `INSERT INTO versions (hash, runbook, modules, params) VALUES ('v1', 'rb', '{}', '[]');
     INSERT INTO runbooks (name, version) VALUES ('rb', 'v1')`,
  );
  a = await db.pool.connect();
  b = await db.pool.connect();
});
afterAll(async () => {
  a?.release();
  b?.release();
  await db?.close();
});

async function dueSchedule(name: string, overlap = "allow"): Promise<void> {
  // Yearly, its tick of this new year due: one tick to fire, the next one a year away. The
  // earlier rounds' schedules are paused so each pass sees this round's only.
  await db.pool.query("UPDATE schedules SET paused = true");
  await db.pool.query(
    `INSERT INTO schedules (name, runbook, cron, overlap, source, next_at) VALUES ($1, 'rb', '0 0 1 1 *', $2, 'cli', date_trunc('year', now()))`,
    [name, overlap],
  );
}

async function ctx(c: pg.PoolClient): Promise<PassContext> {
  const { rows } = await c.query<{ now: Date }>("SELECT now() AS now");
  return { now: rows[0].now, lastPass: rows[0].now, outageMs: 60_000 };
}

async function jobsOf(name: string): Promise<{ id: string; tick: Date }[]> {
  const { rows } = await db.pool.query<{ id: string; tick: Date }>("SELECT id, schedule_tick AS tick FROM jobs WHERE schedule = $1 ORDER BY schedule_tick", [name]);
  return rows;
}

/** Waits until backend `pid` waits for a lock: a barrier in the server, not a sleep. */
async function waitBlocked(pid: number): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE pid = $1 AND NOT granted", [pid]);
    if (rows[0].n > 0) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`backend ${pid} never waited for a lock`);
}

it("SKIP LOCKED: a second pass does not see the schedule a first one holds, in either commit order (200 rounds)", async () => {
  for (let i = 0; i < 200; i++) {
    const name = `locked-${i}`;
    await dueSchedule(name);
    await a.query("BEGIN");
    await b.query("BEGIN");
    const seenA = await lockDueSchedules(a, 50);
    const seenB = await lockDueSchedules(b, 50);
    expect(seenA.map((s) => s.name)).toEqual([name]);
    expect(seenB).toEqual([]);
    const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
    await fireSchedule(a, seenA[0], await ctx(a));
    await first.query("COMMIT");
    await second.query("COMMIT");
    // The next pass after both: nothing is due any more (the next tick is in the future).
    await b.query("BEGIN");
    const again = await lockDueSchedules(b, 50);
    for (const s of again) await fireSchedule(b, s, await ctx(b));
    await b.query("COMMIT");
    expect(again).toEqual([]);
    expect((await jobsOf(name)).length, `round ${i}`).toBe(1);
  }
});

it("the row lock defeated: two passes fire the same tick from one snapshot, one job is made (300 rounds)", async () => {
  const pidB = (await b.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
  const pidA = (await a.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
  for (let i = 0; i < 300; i++) {
    const name = `stale-${i}`;
    await dueSchedule(name, ["allow", "skip", "queue"][i % 3]);
    const row = (await db.pool.query<ScheduleRow>("SELECT * FROM schedules WHERE name = $1", [name])).rows[0];
    await a.query("BEGIN");
    await b.query("BEGIN");
    // Both plan from the same row (no lock); whichever inserts first, the other waits on its key.
    const [first, second, secondPid] = i % 2 === 0 ? [a, b, pidB] : [b, a, pidA];
    await fireSchedule(first, row, await ctx(first));
    const late = fireSchedule(second, row, await ctx(second));
    await waitBlocked(secondPid);
    if (i % 4 < 2) await first.query("COMMIT");
    else await first.query("ROLLBACK"); // the first pass crashed before its commit
    await late;
    await second.query("COMMIT");
    const jobs = await jobsOf(name);
    expect(jobs.length, `round ${i}`).toBe(1);
    expect(jobs[0].id).toBe(`${name}@${jobs[0].tick.toISOString()}`);
    const { rows: ticks } = await db.pool.query<{ outcome: string; job_id: string }>("SELECT outcome, job_id FROM schedule_ticks WHERE schedule = $1", [name]);
    expect(ticks).toEqual([{ outcome: "fired", job_id: jobs[0].id }]);
  }
});

it("a job for a tick that has one already is refused by the database, whatever its id", async () => {
  await dueSchedule("unique");
  await db.pool.query("BEGIN");
  const { rows } = await db.pool.query<{ tick: Date }>("SELECT next_at AS tick FROM schedules WHERE name = 'unique'");
  await db.pool.query("ROLLBACK");
  const insert = (id: string) =>
    db.pool.query("INSERT INTO jobs (id, runbook, version, slot, status, params, due_at, schedule, schedule_tick) VALUES ($1, 'rb', 'v1', 0, 'queued', '{}', now(), 'unique', $2)", [id, rows[0].tick]);
  await insert("one");
  await expect(insert("two")).rejects.toThrow(/jobs_schedule_tick/);
  await expect(db.pool.query("INSERT INTO jobs (id, runbook, version, slot, status, params, due_at, schedule) VALUES ('x', 'rb', 'v1', 0, 'queued', '{}', now(), 'unique')")).rejects.toThrow(/jobs_schedule_has_tick/);
});
