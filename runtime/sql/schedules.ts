// Schedules and their ticks (migration 0009): what operators and `publish` write, and the
// statements of a fire pass (runtime/schedules.ts), each on the client of its transaction.
import type { Json } from "../abi.js";
import type { Overlap, Queryable, ScheduleRow, TickOutcome, TickRow } from "../rows.js";

/** A schedule as `schedule set` or a schedules file gives it. */
export interface ScheduleSpec {
  name: string;
  runbook: string;
  cron: string;
  tz: string;
  params: Record<string, Json>;
  group: string | null;
  overlap: Overlap;
  catchupMs: number;
}

export type ScheduleSource = { source: "cli" } | { source: "file"; file: string };

export async function dbNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>("SELECT now() AS now");
  return rows[0].now;
}

/**
 * Creates or replaces a schedule; `nextAt` is its first tick after now. Replacing resets the
 * ticks to come (and a queued tick), not the record of past ones.
 */
export async function putSchedule(db: Queryable, s: ScheduleSpec, from: ScheduleSource, nextAt: Date | null): Promise<void> {
  await db.query(
    `INSERT INTO schedules (name, runbook, cron, tz, params, worker_group, overlap, catchup_ms, source, source_file, next_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (name) DO UPDATE SET runbook = excluded.runbook, cron = excluded.cron, tz = excluded.tz,
       params = excluded.params, worker_group = excluded.worker_group, overlap = excluded.overlap,
       catchup_ms = excluded.catchup_ms, source = excluded.source, source_file = excluded.source_file,
       next_at = excluded.next_at, pending_tick = NULL, updated_at = now()`,
    [s.name, s.runbook, s.cron, s.tz, JSON.stringify(s.params), s.group, s.overlap, s.catchupMs, from.source, from.source === "file" ? from.file : null, nextAt],
  );
  // A tick that waited behind the running job is dropped with the old settings: its record says so.
  await db.query(
    "UPDATE schedule_ticks SET outcome = 'skipped', reason = 'the schedule was replaced while this tick waited', at = now() WHERE schedule = $1 AND outcome = 'queued'",
    [s.name],
  );
}

export async function getSchedule(db: Queryable, name: string, lock = false): Promise<ScheduleRow | null> {
  const { rows } = await db.query<ScheduleRow>(`SELECT * FROM schedules WHERE name = $1${lock ? " FOR UPDATE" : ""}`, [name]);
  return rows[0] ?? null;
}

export async function listSchedules(db: Queryable): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>("SELECT * FROM schedules ORDER BY name");
  return rows;
}

/** The schedules a schedules file declared (to remove the ones it no longer does). */
export async function schedulesOfFile(db: Queryable, file: string): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>("SELECT * FROM schedules WHERE source = 'file' AND source_file = $1 ORDER BY name", [file]);
  return rows;
}

/** Pauses, or resumes from the first tick after now (`nextAt`): ticks while paused are not fired. */
export async function setPaused(db: Queryable, name: string, paused: boolean, nextAt: Date | null): Promise<void> {
  await db.query(
    `UPDATE schedules SET paused = $2, next_at = CASE WHEN $2 THEN next_at ELSE $3 END, updated_at = now() WHERE name = $1`,
    [name, paused, nextAt],
  );
}

/** Removes a schedule and its tick record; its jobs stay (they keep the schedule's name). */
export async function removeSchedule(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM schedules WHERE name = $1", [name]);
  return (rowCount ?? 0) > 0;
}

/** The newest ticks of a schedule first. */
export async function recentTicks(db: Queryable, name: string, limit = 20): Promise<TickRow[]> {
  const { rows } = await db.query<TickRow>("SELECT * FROM schedule_ticks WHERE schedule = $1 ORDER BY tick DESC LIMIT $2", [name, limit]);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// A fire pass

/**
 * Notes that a fire pass runs now and returns when the previous one ran (null: never). Its own
 * statement, committed at once: a pass that stalls holds no lock on the clock.
 */
export async function touchClock(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ previous: Date | null }>(
    `UPDATE schedule_clock c SET passed_at = greatest(c.passed_at, now())
     FROM (SELECT passed_at FROM schedule_clock FOR UPDATE) old
     RETURNING old.passed_at AS previous`,
  );
  return rows[0].previous;
}

/**
 * The due schedules nobody else is firing, locked until commit: a tick due now, or a queued
 * tick that may go once the running job has finished. SKIP LOCKED: two workers' passes split
 * the schedules between them instead of waiting for each other.
 */
export async function lockDueSchedules(db: Queryable, limit: number): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT * FROM schedules
     WHERE NOT paused AND (next_at <= now() OR pending_tick IS NOT NULL)
     ORDER BY next_at NULLS LAST LIMIT $1
     FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

/** Ids of the schedule's jobs that have not finished, oldest tick first. */
export async function openJobs(db: Queryable, schedule: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM jobs WHERE schedule = $1 AND finished_at IS NULL ORDER BY schedule_tick",
    [schedule],
  );
  return rows.map((r) => r.id);
}

/** The version `start` would run for the runbook now (null: not published). */
export async function publishedVersion(db: Queryable, runbook: string): Promise<string | null> {
  const { rows } = await db.query<{ version: string }>("SELECT version FROM runbooks WHERE name = $1", [runbook]);
  return rows[0]?.version ?? null;
}

export interface TickRecord {
  tick: Date;
  outcome: TickOutcome;
  jobId?: string;
  lastTick?: Date;
  missed?: number;
  reason?: string;
}

/**
 * Records what became of ticks. A tick recorded already keeps its record, except a queued one,
 * which becomes what happened to it when its turn came.
 */
export async function recordTicks(db: Queryable, schedule: string, ticks: TickRecord[]): Promise<void> {
  if (ticks.length === 0) return;
  await db.query(
    `INSERT INTO schedule_ticks (schedule, tick, outcome, job_id, last_tick, missed, reason)
     SELECT $1, x.tick, x.outcome, x.job_id, x.last_tick, x.missed, x.reason
     FROM json_to_recordset($2::json) AS x(tick timestamptz, outcome text, job_id text, last_tick timestamptz, missed integer, reason text)
     ON CONFLICT (schedule, tick) DO UPDATE SET outcome = excluded.outcome, job_id = excluded.job_id, reason = excluded.reason, at = now()
       WHERE schedule_ticks.outcome = 'queued'`,
    [schedule, JSON.stringify(ticks.map((t) => ({ tick: t.tick, outcome: t.outcome, job_id: t.jobId ?? null, last_tick: t.lastTick ?? null, missed: t.missed ?? null, reason: t.reason ?? null })))],
  );
}

/** Moves the schedule on: its next unhandled tick and its queued tick. */
export async function advanceSchedule(db: Queryable, name: string, nextAt: Date | null, pending: Date | null): Promise<void> {
  await db.query("UPDATE schedules SET next_at = $2, pending_tick = $3 WHERE name = $1", [name, nextAt, pending]);
}

/**
 * Removes up to `limit` tick records older than `olderThanMs` (retention.ts, with finished
 * jobs); a queued tick stays until its turn comes. Returns how many.
 */
export async function pruneTicks(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM schedule_ticks t USING (
       SELECT schedule, tick FROM schedule_ticks
       WHERE at < now() - $1 * interval '1 millisecond' AND outcome <> 'queued'
       ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED
     ) old
     WHERE t.schedule = old.schedule AND t.tick = old.tick`,
    [olderThanMs, limit],
  );
  return rowCount ?? 0;
}
