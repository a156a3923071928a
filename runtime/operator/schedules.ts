// The operator's view of schedules (the CLI's `schedule list` and GET /api/schedules share it).
// Changing schedules is cli/schedules.ts for now; the SQL is in runtime/sql/schedules.ts.
import type { Db } from "../db/connect.js";
import type { ScheduleRow } from "../rows.js";
import { listSchedules } from "../sql/schedules.js";
import type { ScheduleView } from "./views.js";

export function scheduleView(s: ScheduleRow): ScheduleView {
  return {
    name: s.name,
    runbook: s.runbook,
    cron: s.cron,
    tz: s.tz,
    params: s.params,
    group: s.worker_group ?? "default",
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
