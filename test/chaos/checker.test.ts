// The soak checker's self-test: clean evidence of a small run passes; each kind of violation,
// injected by doctoring that evidence, is caught as exactly that kind.
import { describe, expect, it } from "vitest";
import { VIOLATION_KINDS, check, type ViolationKind } from "./checker.js";
import type { Evidence, HistoryEvidence, LedgerEvidence } from "./evidence.js";

const t0 = Date.parse("2026-12-07T03:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000);

/**
 * Three jobs: `a` (chaos_steps n=2) taken over after a kill of w1 once it had checkpointed step
 * 1; `b` (chaos_waiter) suspended at its `suspend` and resumed by an operator; `c` (chaos_steps
 * n=3) stopped by an operator after step 1; `v` a victim whose checkpoint was corrupted; `f` a
 * `parallel for` of two branches, one at a time, and `g` one whose branch an operator stopped
 * through it (g failed naming that element).
 */
function clean(): Evidence {
  let hid = 0;
  const h = (job_id: string, s: number, from_status: string | null, to_status: string, worker: string | null, reason: string): HistoryEvidence => ({ id: ++hid, job_id, at: at(s), from_status, to_status, worker, reason });
  let lid = 0;
  const l = (job: string, s: number, pos: number, worker: string, epoch: number, accepted = true): LedgerEvidence => ({ id: ++lid, job, pos, attempt: 1, worker, epoch, accepted, at: at(s) });
  const out = (job_id: string, values: string[]) => values.map((value, i) => ({ job_id, seq: i + 1, stream: "output", value }));
  return {
    jobs: [
      { id: "a", runbook: "chaos_steps", params: { n: 2, ms: 10 }, status: "completed", parent_id: null, error: null, finished_at: at(6) },
      { id: "b", runbook: "chaos_waiter", params: { patience: 3000 }, status: "completed", parent_id: null, error: null, finished_at: at(10) },
      { id: "c", runbook: "chaos_steps", params: { n: 3, ms: 10 }, status: "stopped", parent_id: null, error: null, finished_at: at(3) },
      { id: "v", runbook: "chaos_victim", params: { n: 1 }, status: "failed", parent_id: null, error: { message: "the job's checkpoint is corrupt (no frames); it cannot continue" }, finished_at: at(4.5) },
      // Two jobs of one concurrency key with limit 1, one after the other (k2 queued behind k1).
      ...["k1", "k2"].map((id) => ({ id, runbook: "chaos_keyed", params: { host: "h1", n: 1 }, status: "completed", parent_id: null, error: null, concurrency_key: "chaos_keyed:h1", concurrency_limit: 1, finished_at: null })),
      { id: "f", runbook: "chaos_fanout", params: { k: 2, limit: 1, ms: 10 }, status: "completed", parent_id: null, error: null, finished_at: null },
      ...[0, 1].map((i) => ({ id: `f/0.${i}`, runbook: "chaos_fanout__branch1", params: { i: i + 1 }, status: "completed", parent_id: "f", error: null, finished_at: null, branch_key: 0, branch_index: i, branch_label: String(i + 1) })),
      { id: "g", runbook: "chaos_fanout", params: { k: 1, limit: 1, ms: 10 }, status: "failed", parent_id: null, error: { message: "branch for element 1 failed: the branch was stopped" }, finished_at: null },
      { id: "g/0.0", runbook: "chaos_fanout__branch1", params: { i: 1 }, status: "stopped", parent_id: "g", error: null, finished_at: null, branch_key: 0, branch_index: 0, branch_label: "1" },
      { id: `tick@${at(3).toISOString()}`, runbook: "scheduled", params: {}, status: "completed", parent_id: null, error: null, schedule: "tick", schedule_tick: at(3), finished_at: at(4) },
      { id: `tick@${at(9).toISOString()}`, runbook: "scheduled", params: {}, status: "completed", parent_id: null, error: null, schedule: "tick", schedule_tick: at(9), finished_at: at(10) },
    ],
    schedules: [{ name: "tick", cron: "*/3 * * * * *", tz: "UTC" }],
    // Every 3 s: fired, skipped (an overlap policy), fired.
    ticks: [
      { schedule: "tick", tick: at(3), outcome: "fired", job_id: `tick@${at(3).toISOString()}`, last_tick: null, missed: null, reason: null },
      { schedule: "tick", tick: at(6), outcome: "skipped", job_id: null, last_tick: null, missed: null, reason: "overlap skip" },
      { schedule: "tick", tick: at(9), outcome: "fired", job_id: `tick@${at(9).toISOString()}`, last_tick: null, missed: null, reason: null },
    ],
    streams: [...out("a", ["step 1", "step 2", "done"]), ...out("b", ["waiting", "woke", "reviewed"]), ...out("c", ["step 1"]), ...out("v", ["step 1"]), ...out("f", ["results [10,20]"]), ...out("k1", ["step 1", "done"]), ...out("k2", ["step 1", "done"])],
    history: [
      h("a", 0, null, "queued", null, "queued"),
      h("a", 1, "queued", "running", "w1", "claimed"),
      h("a", 5, "running", "running", "w2", "lease of w1 expired; resumed from the latest checkpoint"),
      h("a", 6, "running", "completed", "w2", "completed"),
      h("b", 0, null, "queued", null, "queued"),
      h("b", 1, "queued", "running", "w2", "claimed"),
      h("b", 2, "running", "waiting", "w2", "wait go"),
      h("b", 3, "waiting", "queued", null, "signal go received"),
      h("b", 4, "queued", "running", "w1", "claimed"),
      h("b", 5, "running", "suspended", "w1", "suspend: review"),
      h("b", 7, "suspended", "suspended", null, "signal go sent by operator x"), // a line, no transition
      h("b", 8, "suspended", "queued", null, "resumed by operator x"),
      h("b", 9, "queued", "running", "w2", "claimed"),
      h("b", 10, "running", "completed", "w2", "completed"),
      h("c", 0, null, "queued", null, "queued"),
      h("c", 1, "queued", "running", "w1", "claimed"),
      h("c", 3, "running", "stopped", "w1", "stopped by operator"),
      h("v", 0, null, "queued", null, "queued"),
      h("v", 1, "queued", "running", "w1", "claimed"),
      h("v", 2, "running", "waiting", "w1", "wait go"),
      h("v", 3, "waiting", "queued", null, "signal go received"),
      h("v", 4, "queued", "running", "w2", "claimed"),
      h("v", 4.5, "running", "failed", "w2", "failed: the job's checkpoint is corrupt (no frames); it cannot continue"),
      h("k1", 11, null, "queued", null, "queued"),
      h("k2", 11, null, "queued", null, "queued"),
      h("k1", 12, "queued", "running", "w1", "claimed"),
      h("k1", 13, "running", "sleeping", "w1", "sleep"),
      h("k1", 14, "sleeping", "running", "w2", "sleep ended"),
      h("k1", 15, "running", "completed", "w2", "completed"),
      h("k2", 15, "queued", "running", "w1", "claimed"), // the same instant: the place passed on
      h("k2", 16, "running", "completed", "w1", "completed"),
      h("f", 0, null, "queued", null, "queued"),
      h("f", 1, "queued", "running", "w1", "claimed"),
      h("f", 1.2, "running", "waiting", "w1", "waiting for the branches of parallel for (2 elements)"),
      h("f/0.0", 1.2, null, "queued", "w1", "branch 1 of parallel for started by job f"),
      h("f/0.0", 1.3, "queued", "running", "w2", "claimed"),
      h("f/0.0", 2, "running", "completed", "w2", "completed"),
      h("f", 2, "waiting", "queued", null, "awaited job branch of parallel for ended"),
      h("f", 2.1, "queued", "running", "w1", "claimed"),
      h("f/0.1", 2.1, null, "queued", "w1", "branch 2 of parallel for started by job f"),
      h("f", 2.1, "running", "waiting", "w1", "waiting for the branches of parallel for (2 elements)"),
      h("f/0.1", 2.2, "queued", "running", "w1", "claimed"),
      h("f/0.1", 3, "running", "completed", "w1", "completed"),
      h("f", 3, "waiting", "queued", null, "awaited job branch of parallel for ended"),
      h("f", 3.1, "queued", "running", "w2", "claimed"),
      h("f", 3.2, "running", "completed", "w2", "completed"),
      h("g", 0, null, "queued", null, "queued"),
      h("g", 1, "queued", "running", "w1", "claimed"),
      h("g/0.0", 1.1, null, "queued", "w1", "branch 1 of parallel for started by job g"),
      h("g", 1.1, "running", "waiting", "w1", "waiting for the branches of parallel for (1 elements)"),
      h("g/0.0", 1.5, "queued", "suspended", null, "suspended by operator x"),
      h("g/0.0", 1.6, "suspended", "stopped", null, "stopped by operator x"),
      h("g", 1.6, "waiting", "queued", null, "awaited job branch of parallel for ended"),
      h("g", 1.7, "queued", "running", "w2", "claimed"),
      h("g", 1.8, "running", "failed", "w2", "failed: branch for element 1 failed: the branch was stopped"),
    ],
    ledger: [
      l("a", 1.1, 1, "w1", 1),
      l("a", 1.5, 2, "w1", 1), // checkpoint after step 2 not committed: redone by w2
      l("a", 5.1, 2, "w2", 2),
      l("a", 5.2, 3, "w2", 2),
      l("a", 5.5, 3, "w1", 1, false), // w1 back from a pause: refused by the fence
      l("b", 1.1, 1, "w2", 1),
      l("b", 4.1, 2, "w1", 2),
      l("b", 9.1, 3, "w2", 3),
      l("c", 1.1, 1, "w1", 1),
      l("c", 2, 2, "w1", 1),
      l("v", 1.1, 1, "w1", 1),
      l("f", 1.1, 1, "w1", 1),
      l("f/0.0", 1.4, 1, "w2", 1),
      l("f/0.0", 1.5, 2, "w2", 1),
      l("f/0.1", 2.3, 1, "w1", 1),
      l("f/0.1", 2.4, 2, "w1", 1),
      l("f", 3.15, 2, "w2", 3),
      l("g", 1.05, 1, "w1", 1),
    ],
    faults: [{ kind: "kill -9", at: at(2), worker: "w1", held: ["a"] }],
    hostile: [{ job: "v", kind: "checkpoint", error: "checkpoint is corrupt \\(no frames\\)", mayComplete: false }],
    crashes: [],
    unclear: [],
  };
}

function caught(ev: Evidence): ViolationKind[] {
  const r = check(ev);
  return VIOLATION_KINDS.filter((k) => r.violations.get(k)!.length > 0);
}

describe("the soak checker", () => {
  it("passes clean evidence, and measures failover and refused calls", () => {
    const r = check(clean());
    expect(caught(clean())).toEqual([]);
    expect(r.total).toBe(0);
    expect(r.failoverMs).toEqual([3000]);
    expect(r.staleRefused).toBe(1);
    expect(r.faults.get("kill -9")).toBe(1);
    expect(r.keyed).toEqual({ jobs: 2, keys: 1, peak: 1 });
  });

  const cases: [ViolationKind, (ev: Evidence) => void][] = [
    ["lost", (ev) => (ev.jobs[0].status = "running")],
    ["double run", (ev) => (ev.ledger.find((l) => !l.accepted)!.accepted = true)],
    ["double run", (ev) => (ev.ledger[3].worker = "w3")], // epoch 2 held by w2 and w3
    ["redone before a checkpoint", (ev) => (ev.ledger[2].pos = 1)], // w2 began at step 1, past the committed checkpoint after step 1
    ["output", (ev) => ev.streams.push({ job_id: "a", seq: 4, stream: "output", value: "done" })], // duplicate
    ["output", (ev) => ev.streams.splice(1, 1)], // missing: seqs 1, 3
    ["output", (ev) => ([ev.streams[0].value, ev.streams[1].value] = [ev.streams[1].value, ev.streams[0].value])], // out of order
    ["output", (ev) => (ev.streams.find((s) => s.job_id === "c")!.value = "step 2")], // a stopped job's output that is no prefix
    ["left an end", (ev) => ev.history.push({ id: 99, job_id: "a", at: at(9), from_status: "completed", to_status: "running", worker: "w1", reason: "claimed" })],
    ["left suspended without an operator", (ev) => (ev.history.find((h) => h.from_status === "suspended" && h.to_status !== "suspended")!.reason = "claimed")],
    ["side effect after the end", (ev) => ev.ledger.push({ id: 99, job: "c", pos: 3, attempt: 1, worker: "w1", epoch: 1, accepted: true, at: at(4) })],
    // A completion writes no history row (migration 0008): the end is the job row's finished_at.
    ["side effect after the end", (ev) => (ev.history.splice(ev.history.findIndex((h) => h.job_id === "a" && h.to_status === "completed"), 1), ev.ledger.push({ id: 99, job: "a", pos: 3, attempt: 1, worker: "w2", epoch: 2, accepted: true, at: at(7) }))],
    ["unexpected failure", (ev) => Object.assign(ev.jobs[0], { status: "failed", error: { message: "boom" } })],
    ["stopped without an operator", (ev) => (ev.history.find((h) => h.to_status === "stopped")!.reason = "interrupted")],
    ["hostile input mishandled", (ev) => (ev.jobs[3].error = { message: "TypeError: cannot read properties of undefined" })],
    ["hostile input mishandled", (ev) => (ev.jobs[3].status = "completed", ev.streams.push({ job_id: "v", seq: 2, stream: "output", value: "resumed" }))],
    ["worker crashed", (ev) => ev.crashes.push({ worker: "w2", code: 1, tail: "Error: Connection terminated unexpectedly\n    at x" })],
    ["above the concurrency limit", (ev) => (ev.history.find((h) => h.job_id === "k2" && h.to_status === "running")!.at = at(13.5))], // while k1 slept
    ["branch started twice", (ev) => ev.history.push({ id: 99, job_id: "f/0.1", at: at(2.5), from_status: null, to_status: "queued", worker: "w1", reason: "branch 2 of parallel for started by job f" })],
    ["branch started twice", (ev) => ev.jobs.push({ ...ev.jobs.find((j) => j.id === "f/0.1")!, id: "f/0.1b" })],
    // f/0.1 created (history row inserted) before f/0.0's ending was
    ["branch limit exceeded", (ev) => (ev.history.find((h) => h.job_id === "f/0.1" && h.from_status === null)!.id = ev.history.find((h) => h.job_id === "f/0.0" && h.to_status === "completed")!.id - 0.5)],
    ["branch missing", (ev) => (ev.jobs = ev.jobs.filter((j) => j.id !== "f/0.1"))],
    ["unexpected failure", (ev) => (ev.jobs.find((j) => j.id === "g/0.0")!.status = "completed")],
    ["two jobs for a tick", (ev) => ev.jobs.push({ ...ev.jobs.find((j) => j.schedule)!, id: "tick-again" })], // a second job for the tick of 3 s
    ["two jobs for a tick", (ev) => (ev.ticks![1] = { ...ev.ticks![1], outcome: "fired", job_id: `tick@${at(6).toISOString()}` })], // fired, but no job
    ["tick lost", (ev) => ev.ticks!.splice(1, 1)], // no record of the tick of 6 s
    ["tick lost", (ev) => (ev.ticks![1] = { ...ev.ticks![1], outcome: "missed", last_tick: at(6), missed: 1 })],
    ["unclear error", (ev) => ev.unclear.push({ command: "start chaos_steps --param n={", code: 1, stderr: "TypeError: x\n    at f (a.ts:1:2)\n" })],
  ];
  it.each(cases)("catches %s", (kind, doctor) => {
    const ev = clean();
    doctor(ev);
    expect(caught(ev)).toEqual([kind]);
  });
});
