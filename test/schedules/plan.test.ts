// planTicks: which ticks a fire pass fires, skips, queues or records as missed, for each overlap
// policy and across an outage; and cron/zone reading (croner), daylight-saving changes included.
import { describe, expect, it } from "vitest";
import { Ticks, cronProblem } from "../../runtime/cron.js";
import type { ScheduleRow } from "../../runtime/rows.js";
import { planTicks, type PassContext } from "../../runtime/schedules.js";

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function schedule(over: Partial<ScheduleRow> = {}): ScheduleRow {
  return {
    name: "s", runbook: "rb", cron: "*/2 * * * * *", tz: "UTC", params: {}, worker_group: null, overlap: "allow",
    catchup_ms: "0", paused: false, source: "cli", source_file: null, next_at: at(2), pending_tick: null,
    created_at: T0, updated_at: T0, ...over,
  };
}
const live = (now: number): PassContext => ({ now: at(now), lastPass: at(now - 1), outageMs: 3000 });

describe("overlap", () => {
  it("allow fires every due tick, oldest first, and moves on to the first tick after now", () => {
    const p = planTicks(schedule(), ["old"], live(7));
    expect(p.fire).toEqual([at(2), at(4), at(6)]);
    expect(p.ticks).toEqual([]);
    expect(p.nextAt).toEqual(at(8));
  });

  it("skip fires only when no job of the schedule is unfinished, and records the skipped ticks", () => {
    const busy = planTicks(schedule({ overlap: "skip" }), ["job-a"], live(5));
    expect(busy.fire).toEqual([]);
    expect(busy.ticks.map((t) => [t.tick, t.outcome])).toEqual([[at(2), "skipped"], [at(4), "skipped"]]);
    expect(busy.ticks[0].reason).toContain("job-a");
    const idle = planTicks(schedule({ overlap: "skip" }), [], live(5));
    expect(idle.fire).toEqual([at(2)]);
    expect(idle.ticks.map((t) => [t.tick, t.outcome])).toEqual([[at(4), "skipped"]]);
  });

  it("queue keeps one tick waiting behind the running job and fires it once none is unfinished", () => {
    const busy = planTicks(schedule({ overlap: "queue" }), ["job-a"], live(7));
    expect(busy.fire).toEqual([]);
    expect(busy.pending).toEqual(at(2));
    expect(busy.ticks.map((t) => [t.tick, t.outcome])).toEqual([[at(2), "queued"], [at(4), "skipped"], [at(6), "skipped"]]);
    // Still running at the next pass: the queued tick waits, new ticks are skipped.
    const still = planTicks(schedule({ overlap: "queue", pending_tick: at(2), next_at: at(8) }), ["job-a"], live(8));
    expect(still.fire).toEqual([]);
    expect(still.pending).toEqual(at(2));
    // Finished: the queued tick goes first, and the tick due now waits behind it.
    const done = planTicks(schedule({ overlap: "queue", pending_tick: at(2), next_at: at(10) }), [], live(10));
    expect(done.fire).toEqual([at(2)]);
    expect(done.pending).toEqual(at(10));
  });
});

describe("after an outage", () => {
  const away = (now: number, lastPass: number | null): PassContext => ({ now: at(now), lastPass: lastPass === null ? null : at(lastPass), outageMs: 3000 });

  it("fires the ticks within the catch-up window, oldest first, and records the older ones as one missed run", () => {
    // Last pass at 1 s, back at 61 s: a minute without any worker.
    const p = planTicks(schedule({ catchup_ms: "20000" }), [], away(61, 1));
    expect(p.fire).toEqual([42, 44, 46, 48, 50, 52, 54, 56, 58, 60].map(at));
    expect(p.ticks).toHaveLength(1);
    expect(p.ticks[0]).toMatchObject({ outcome: "missed", tick: at(2), lastTick: at(40), missed: 20 });
    expect(p.nextAt).toEqual(at(62));
  });

  it("fires nothing missed with the default catch-up of 0", () => {
    const p = planTicks(schedule(), [], away(61, 1));
    expect(p.fire).toEqual([]);
    expect(p.ticks[0]).toMatchObject({ outcome: "missed", tick: at(2), lastTick: at(60), missed: 30 });
  });

  it("counts a huge missed run without stepping through every tick", () => {
    const p = planTicks(schedule({ cron: "* * * * * *", next_at: at(1) }), [], away(86_400 * 7, 0));
    expect(p.ticks[0]).toMatchObject({ outcome: "missed", tick: at(1), lastTick: at(86_400 * 7 - 1) });
    expect(p.nextAt).toEqual(at(86_400 * 7 + 1));
  });

  it("is no outage when passes ran: a late pass still fires every tick", () => {
    const p = planTicks(schedule(), [], { now: at(61), lastPass: at(59), outageMs: 3000 });
    expect(p.fire).toHaveLength(30);
  });
});

describe("cron and zones (croner)", () => {
  it("reads five fields, or six with seconds first, in the schedule's zone across daylight-saving changes", () => {
    const paris = new Ticks("30 2 * * *", "Europe/Paris");
    // 29 March 2026: 02:30 does not exist in Paris (clocks go 02:00 -> 03:00): fired at 03:00 CEST.
    expect(paris.after(new Date("2026-03-28T12:00:00Z"))).toEqual(new Date("2026-03-29T01:00:00Z"));
    expect(paris.after(new Date("2026-03-29T12:00:00Z"))).toEqual(new Date("2026-03-30T00:30:00Z"));
    // 25 October 2026: 02:30 happens twice (CEST, then CET); fired once, at the first.
    const oct = [new Date("2026-10-24T12:00:00Z")];
    for (let i = 0; i < 2; i++) oct.push(paris.after(oct[oct.length - 1])!);
    expect(oct.slice(1)).toEqual([new Date("2026-10-25T00:30:00Z"), new Date("2026-10-26T01:30:00Z")]);
    expect(new Ticks("*/15 * * * * *", "UTC").after(at(1))).toEqual(at(15));
  });

  it("names what is wrong with a bad cron or zone in one line", () => {
    expect(cronProblem("61 * * * *", "UTC")).toMatch(/^cron "61 \* \* \* \*" is not valid: invalid value for minute: 61/);
    expect(cronProblem("* * *", "UTC")).toBe('cron "* * *" has 3 fields: write five fields "min hour day month weekday", or six with seconds first');
    expect(cronProblem("0 0 * * * * 2030", "UTC")).toMatch(/^cron "0 0 \* \* \* \* 2030" has 7 fields/);
    expect(cronProblem("0 2 * * FOO", "UTC")).toMatch(/^cron "0 2 \* \* FOO" is not valid: /);
    expect(cronProblem("0 2 * * *", "Mars/Base")).toBe('time zone "Mars/Base" is not known (use an IANA name like UTC, Europe/Paris or America/New_York)');
    expect(cronProblem("0 2 * * MON-FRI", "America/New_York")).toBeNull();
  });
});
