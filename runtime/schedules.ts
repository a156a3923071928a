// Firing schedules. There is no scheduler process: every live worker runs a fire pass every
// second (worker.ts). A pass locks the due schedule rows nobody else holds (FOR UPDATE SKIP
// LOCKED), and in that one transaction inserts each tick's job under an id derived from the
// schedule and the tick (ON CONFLICT DO NOTHING, and a unique index on (schedule, tick)),
// records what became of every tick, and moves the schedule's next tick on. A crash before the
// commit undoes all of it, and the next pass does it again; after the commit it is done. So two
// workers, a kill -9 anywhere, or a database restart never make two jobs for a tick, and a tick
// is not lost while some worker runs passes. docs/runtime.md, "Schedules", has the whole story.
import type pg from "pg";
import { Ticks, tickJobId } from "./cron.js";
import { withTransaction } from "./db/tx.js";
import { assertNever } from "./never.js";
import type { Queryable, ScheduleRow } from "./rows.js";
import { insertJobs } from "./sql/enqueue.js";
import { advanceSchedule, dbNow, lockDueSchedules, openJobs, publishedVersion, recordTicks, touchClock, type TickRecord } from "./sql/schedules.js";

/** Most ticks of one schedule one pass handles (the next pass goes on from there). */
const MAX_TICKS_PER_PASS = 100;
/** Most ticks counted one by one in a missed run (a per-second cron after a week away). */
const MAX_MISSED_COUNTED = 10_000;
/** Schedules one pass locks at most. */
const SCHEDULES_PER_PASS = 50;

/** What a pass decided for one schedule, before anything is written. */
export interface Plan {
  /** Ticks to make a job for, oldest first. */
  fire: Date[];
  /** Every tick handled (fired ones without their job id yet). */
  ticks: TickRecord[];
  nextAt: Date | null;
  pending: Date | null;
}

export interface PassContext {
  /** The database's now, at the pass's transaction. */
  now: Date;
  /** When the previous pass (of any worker) ran; null: never. */
  lastPass: Date | null;
  /** A gap between passes longer than this was an outage (the workers' lease timeout). */
  outageMs: number;
}

/**
 * Decides one schedule's due ticks. `open`: its jobs not finished yet, oldest first.
 *
 * - After an outage (no pass for longer than `outageMs`), ticks older than the catch-up window
 *   are recorded as one missed run; the ones inside it are handled like any due tick, oldest
 *   first. Without an outage every due tick is handled, however late the pass is.
 * - Overlap: `allow` fires every tick; `skip` skips a tick while a job of the schedule has not
 *   finished; `queue` keeps one tick waiting (pending) and fires it once none is unfinished,
 *   skipping ticks while one already waits.
 */
export function planTicks(s: ScheduleRow, open: readonly string[], ctx: PassContext): Plan {
  const ticks = new Ticks(s.cron, s.tz);
  const plan: Plan = { fire: [], ticks: [], nextAt: s.next_at, pending: s.pending_tick };
  let running = open.length;
  const fire = (tick: Date) => {
    plan.fire.push(tick);
    running++;
  };
  if (plan.pending && running === 0) {
    fire(plan.pending);
    plan.pending = null;
  }
  let t = s.next_at;
  const outage = ctx.lastPass === null || ctx.now.getTime() - ctx.lastPass.getTime() > ctx.outageMs;
  if (t && outage) {
    const windowStart = new Date(ctx.now.getTime() - Number(s.catchup_ms));
    if (t < windowStart) {
      const first = t;
      let last = t;
      let count = 0;
      while (t && t < windowStart && count < MAX_MISSED_COUNTED) {
        last = t;
        count++;
        t = ticks.after(t);
      }
      if (t && t < windowStart) {
        // Too many to count: jump to the window; the run's last tick is the one just before it.
        t = ticks.atOrAfter(windowStart);
        last = ticks.before(windowStart) ?? last;
      }
      const why = Number(s.catchup_ms) > 0 ? `older than the catch-up window (${Number(s.catchup_ms) / 1000}s)` : "no catch-up window";
      plan.ticks.push({ tick: first, outcome: "missed", lastTick: last, missed: count, reason: `no worker ran schedules from ${ctx.lastPass?.toISOString() ?? "the start"} to ${ctx.now.toISOString()}; ${why}` });
    }
  }
  for (let n = 0; t && t <= ctx.now && n < MAX_TICKS_PER_PASS; n++, t = ticks.after(t)) {
    switch (s.overlap) {
      case "allow":
        fire(t);
        break;
      case "skip":
        if (running === 0) fire(t);
        else plan.ticks.push({ tick: t, outcome: "skipped", reason: `overlap skip: ${describe(open, plan.fire)} has not finished` });
        break;
      case "queue":
        if (running === 0) fire(t);
        else if (plan.pending === null) {
          plan.pending = t;
          plan.ticks.push({ tick: t, outcome: "queued", reason: `overlap queue: waits for ${describe(open, plan.fire)} to finish` });
        } else plan.ticks.push({ tick: t, outcome: "skipped", reason: `overlap queue: tick ${plan.pending.toISOString()} already waits` });
        break;
      default:
        assertNever(s.overlap, "overlap policy");
    }
  }
  plan.nextAt = t;
  return plan;
}

/** The unfinished job a skipped or queued tick gave way to, for its record. */
function describe(open: readonly string[], fired: Date[]): string {
  if (open.length > 0) return `job ${open[open.length - 1]}`;
  return fired.length > 0 ? `the job of tick ${fired[fired.length - 1].toISOString()}` : "the previous job";
}

/** Writes one schedule's plan in the caller's transaction (the schedule row locked by it). */
export async function fireSchedule(db: Queryable, s: ScheduleRow, ctx: PassContext): Promise<Plan> {
  const plan = planTicks(s, await openJobs(db, s.name), ctx);
  const version = plan.fire.length > 0 ? await publishedVersion(db, s.runbook) : null;
  const records = [...plan.ticks];
  if (version) {
    // No group of its own: the runbook's declared group, else `default` (insertJobs decides).
    const jobs = plan.fire.map((tick) => ({ id: tickJobId(s.name, tick), runbook: s.runbook, version, params: s.params, group: s.worker_group ?? undefined, schedule: { name: s.name, tick } }));
    await insertJobs(db, jobs, `fired by schedule ${s.name}`);
    for (const j of jobs) records.push({ tick: j.schedule.tick, outcome: "fired", jobId: j.id });
  } else {
    for (const tick of plan.fire) records.push({ tick, outcome: "skipped", reason: `runbook ${s.runbook} is not published` });
  }
  await recordTicks(db, s.name, records);
  await advanceSchedule(db, s.name, plan.nextAt, plan.pending);
  return plan;
}

export interface PassResult {
  schedule: string;
  fired: number;
  /** Ticks recorded missed (after an outage, older than the catch-up window). */
  missed: number;
}

/** One fire pass: every due schedule nobody else holds, in one transaction. */
export async function firePass(pool: pg.Pool, outageMs: number): Promise<PassResult[]> {
  const lastPass = await touchClock(pool);
  return withTransaction(pool, async (client) => {
    const ctx: PassContext = { now: await dbNow(client), lastPass, outageMs };
    const out: PassResult[] = [];
    for (const s of await lockDueSchedules(client, SCHEDULES_PER_PASS)) {
      const plan = await fireSchedule(client, s, ctx);
      out.push({ schedule: s.name, fired: plan.fire.length, missed: plan.ticks.reduce((n, t) => n + (t.missed ?? 0), 0) });
    }
    return out;
  });
}

export type Triggered = { kind: "fired"; jobId: string; tick: Date } | { kind: "unpublished"; runbook: string };

/**
 * `schedule trigger`: a job now, as if a tick fell now, whatever the overlap policy (an operator
 * asked for it). Its tick is the database's now, so it is one job like any tick's.
 */
export async function triggerSchedule(db: Queryable, s: ScheduleRow): Promise<Triggered> {
  const version = await publishedVersion(db, s.runbook);
  if (!version) return { kind: "unpublished", runbook: s.runbook };
  const tick = await dbNow(db);
  const id = tickJobId(s.name, tick);
  await insertJobs(db, [{ id, runbook: s.runbook, version, params: s.params, group: s.worker_group ?? undefined, schedule: { name: s.name, tick } }], `triggered from schedule ${s.name} by ${process.env.USER ?? "an operator"}`);
  await recordTicks(db, s.name, [{ tick, outcome: "triggered", jobId: id }]);
  return { kind: "fired", jobId: id, tick };
}
