// Tick records leave with finished jobs of their age (runtime/retention.ts), except a tick still
// queued behind a running job.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { prune } from "../../runtime/retention.js";
import { freshDb } from "../setup/db.js";

const DAY = 86_400_000;
let db: Db;
beforeAll(async () => {
  db = await freshDb(2);
});
afterAll(async () => {
  await db?.close();
});

it("removes tick records older than the retention period, in batches, keeping a queued tick", async () => {
  await db.pool.query("INSERT INTO schedules (name, runbook, cron, overlap, source, next_at) VALUES ('s', 'rb', '* * * * *', 'queue', 'cli', now())");
  await db.pool.query(
    `INSERT INTO schedule_ticks (schedule, tick, outcome, reason, at)
     SELECT 's', now() - g * interval '1 minute', 'skipped', 'overlap', now() - interval '40 days' FROM generate_series(1, 7) g`,
  );
  await db.pool.query("INSERT INTO schedule_ticks (schedule, tick, outcome, reason, at) VALUES ('s', now() - interval '41 days', 'queued', 'waits', now() - interval '41 days')");
  await db.pool.query("INSERT INTO schedule_ticks (schedule, tick, outcome, reason, at) VALUES ('s', now(), 'skipped', 'recent', now())");
  expect(await prune(db.pool, { olderThanMs: 30 * DAY, batch: 3, pauseMs: 0 })).toBe(0);
  const { rows } = await db.pool.query<{ outcome: string; reason: string }>("SELECT outcome, reason FROM schedule_ticks ORDER BY tick");
  expect(rows).toEqual([{ outcome: "queued", reason: "waits" }, { outcome: "skipped", reason: "recent" }]);
});
