// The soak's schedule invariant: one job per tick, and no tick lost. From the ticks recorded
// (schedule_ticks) and the jobs carrying a schedule and tick:
// - "two jobs for a tick": two jobs with one schedule and tick, a fired tick whose job is not
//   the tick's (its id derived from the schedule and the tick), or a job no fired tick names;
// - "tick lost": between a schedule's first and last recorded tick, a cron tick with no record,
//   or a tick recorded as missed (the soak's catch-up window covers every outage it makes).
import { Ticks, tickJobId } from "../../runtime/cron.js";
import type { Evidence } from "./evidence.js";

export type TickViolation = { kind: "two jobs for a tick" | "tick lost"; what: string };

export function tickViolations(ev: Evidence): TickViolation[] {
  const out: TickViolation[] = [];
  const jobsByTick = new Map<string, string[]>();
  for (const j of ev.jobs) {
    if (!j.schedule || !j.schedule_tick) continue;
    const key = `${j.schedule}@${j.schedule_tick.toISOString()}`;
    jobsByTick.set(key, [...(jobsByTick.get(key) ?? []), j.id]);
  }
  for (const [key, ids] of jobsByTick) if (ids.length > 1) out.push({ kind: "two jobs for a tick", what: `${key}: jobs ${ids.join(", ")}` });
  const fired = new Set<string>();
  for (const t of ev.ticks ?? []) {
    if (t.outcome !== "fired" && t.outcome !== "triggered") continue;
    const key = `${t.schedule}@${t.tick.toISOString()}`;
    fired.add(key);
    const ids = jobsByTick.get(key) ?? [];
    if (t.job_id !== tickJobId(t.schedule, t.tick) || !ids.includes(t.job_id)) out.push({ kind: "two jobs for a tick", what: `${key} fired as job ${t.job_id}, but its jobs are ${ids.join(", ") || "none"}` });
  }
  for (const [key, ids] of jobsByTick) if (!fired.has(key)) out.push({ kind: "two jobs for a tick", what: `${key}: job ${ids.join(", ")} made for a tick no fire recorded` });

  for (const s of ev.schedules ?? []) {
    const recorded = (ev.ticks ?? []).filter((t) => t.schedule === s.name && t.outcome !== "triggered").sort((a, b) => a.tick.getTime() - b.tick.getTime());
    const cron = new Ticks(s.cron, s.tz);
    for (let i = 0; i < recorded.length; i++) {
      const t = recorded[i];
      if (t.outcome === "missed") out.push({ kind: "tick lost", what: `${s.name}: ${t.missed} ticks from ${t.tick.toISOString()} recorded missed: ${t.reason}` });
      if (i === 0) continue;
      const prev = recorded[i - 1];
      const expected = cron.after(prev.outcome === "missed" && prev.last_tick ? prev.last_tick : prev.tick);
      if (expected && expected.getTime() !== t.tick.getTime()) out.push({ kind: "tick lost", what: `${s.name}: no record of the tick ${expected.toISOString()} (between ${prev.tick.toISOString()} and ${t.tick.toISOString()})` });
    }
  }
  return out;
}
