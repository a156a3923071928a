// The operator's schedules: the list (the CLI's `schedule list`, GET /api/schedules) and pause
// and resume (the CLI, POST /api/schedules/:name/pause|resume). Setting, removing and
// triggering are cli/schedules.ts for now; the SQL is in runtime/sql/schedules.ts.
import { Ticks } from "../cron.js";
import type { Db } from "../db/connect.js";
import { withTransaction } from "../db/tx.js";
import type { ScheduleRow } from "../rows.js";
import { dbNow, getSchedule, listSchedules, setPaused } from "../sql/schedules.js";
import { OperatorError } from "./errors.js";
import { suggestName } from "./jobs.js";
import type { ScheduleView } from "./views.js";

export function scheduleView(s: ScheduleRow): ScheduleView {
  return {
    name: s.name,
    runbook: s.runbook,
    cron: s.cron,
    tz: s.tz,
    params: s.params,
    group: s.worker_group,
    paused: s.paused,
    overlap: s.overlap,
    catchup_ms: Number(s.catchup_ms),
    // A paused schedule fires nothing; resuming starts from the first tick after the resume.
    next: s.paused || !s.next_at ? null : s.next_at.toISOString(),
    queued_tick: s.pending_tick?.toISOString() ?? null,
    source: s.source,
    file: s.source_file,
  };
}

export async function schedules(db: Db): Promise<ScheduleView[]> {
  return (await listSchedules(db.pool)).map(scheduleView);
}

/** Pauses, or resumes from the first tick after now; returns the schedule as it is then. */
export async function pauseSchedule(db: Db, name: string, paused: boolean): Promise<ScheduleView> {
  return withTransaction(db.pool, async (c) => {
    const s = await getSchedule(c, name, true);
    if (!s) {
      const names = (await listSchedules(c)).map((x) => x.name);
      throw new OperatorError(`no schedule ${name}${names.length ? suggestName(names, name) : " (there are no schedules)"}`, "not-found");
    }
    const nextAt = paused ? s.next_at : new Ticks(s.cron, s.tz).after(await dbNow(c));
    await setPaused(c, name, paused, nextAt);
    return scheduleView({ ...s, paused, next_at: nextAt });
  });
}
