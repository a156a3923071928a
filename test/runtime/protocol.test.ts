// The job protocol's pure functions (runtime/protocol.ts): every driver outcome's plan, the
// park that follows a checkpoint, what a waiting park finds, and every case of what a claimed
// job continues with. No database: the worker and the in-memory executor both run on these.
import { describe, expect, it } from "vitest";
import type { ErrorRecord, Outcome } from "../../runtime/abi.js";
import {
  afterCheckpoint,
  awaitedInput,
  parkedRow,
  parkPlan,
  resumeInput,
  settle,
  type AwaitedJob,
  type Found,
  type Park,
  type Parked,
  type Plan,
  type Resume,
} from "../../runtime/protocol.js";
import { AWAIT_RECHECK_MS } from "../../runtime/settings.js";

const err: ErrorRecord = { message: "boom", runbook: "r", file: "r.runbook", line: 3, column: 5, data: null };
const none = { waitSignal: null, awaitJob: null, timer: { kind: "none" } } as const;

const plans: [string, Outcome, Plan][] = [
  ["checkpoint", { kind: "checkpoint", label: "built" }, { kind: "checkpoint", label: "built" }],
  ["checkpoint without a label", { kind: "checkpoint", label: null }, { kind: "checkpoint", label: null }],
  ["sleep", { kind: "sleep", ms: 250 }, { kind: "park", state: "new", label: "sleep", status: "sleeping", ...none, timer: { kind: "in", ms: 250 }, reason: "sleeping 250 ms" }],
  ["negative sleep", { kind: "sleep", ms: -5 }, { kind: "park", state: "new", label: "sleep", status: "sleeping", ...none, timer: { kind: "in", ms: 0 }, reason: "sleeping -5 ms" }],
  [
    "wait with a timeout",
    { kind: "wait", signal: "approve", timeoutMs: 1000 },
    { kind: "park", state: "new", label: "wait approve", status: "waiting", ...none, waitSignal: "approve", timer: { kind: "in", ms: 1000 }, reason: "waiting for signal approve (timeout 1000 ms)" },
  ],
  [
    "wait without a timeout",
    { kind: "wait", signal: "approve", timeoutMs: null },
    { kind: "park", state: "new", label: "wait approve", status: "waiting", ...none, waitSignal: "approve", reason: "waiting for signal approve" },
  ],
  [
    "await",
    { kind: "await", job: "p/0" },
    { kind: "park", state: "new", label: "await", status: "waiting", ...none, awaitJob: "p/0", timer: { kind: "in", ms: AWAIT_RECHECK_MS }, reason: "awaiting job p/0" },
  ],
  ["suspend with a reason", { kind: "suspend", reason: "hold" }, { kind: "park", state: "new", label: "suspend", status: "suspended", ...none, reason: "suspend: hold" }],
  ["suspend without one", { kind: "suspend", reason: null }, { kind: "park", state: "new", label: "suspend", status: "suspended", ...none, reason: "suspend statement" }],
  ["completed", { kind: "completed", result: { n: 1 } }, { kind: "finish", status: "completed", result: { n: 1 }, error: null, reason: "completed" }],
  ["failed", { kind: "failed", error: err }, { kind: "finish", status: "failed", result: null, error: err, reason: "failed: boom" }],
  ["interrupted", { kind: "interrupted", reason: "slot 3 moved" }, { kind: "park", state: "keep", label: null, status: "queued", ...none, reason: "interrupted: slot 3 moved" }],
];

describe("parkPlan: what each driver outcome writes", () => {
  it.each(plans)("%s", (_, outcome, plan) => {
    expect(parkPlan(outcome)).toEqual(plan);
  });

  it("covers every outcome kind", () => {
    const kinds: Outcome["kind"][] = ["checkpoint", "sleep", "wait", "await", "suspend", "completed", "failed", "interrupted"];
    expect(new Set(plans.map(([, o]) => o.kind))).toEqual(new Set(kinds));
  });

  it.each(["suspend", "stop"] as const)("an interruption by an operator's %s names the cancelled control", (action) => {
    expect(parkPlan({ kind: "interrupted", reason: "x" }, action)).toEqual({
      kind: "park",
      state: "keep",
      label: null,
      status: "queued",
      ...none,
      reason: `operator ${action} cancelled: continues from its latest checkpoint`,
    });
  });

  it("the operator action matters only to an interruption", () => {
    for (const [, outcome, plan] of plans) if (outcome.kind !== "interrupted") expect(parkPlan(outcome, "stop")).toEqual(plan);
  });

  it("refuses an outcome outside the union loudly", () => {
    expect(() => parkPlan({ kind: "teleport" } as unknown as Outcome)).toThrow('unexpected driver outcome: {"kind":"teleport"}');
  });
});

describe("afterCheckpoint", () => {
  it.each([
    ["nothing pending: runs on", null, null, null],
    ["an operator's suspend", "suspend", null, { status: "suspended", reason: "operator control" }],
    ["an operator's stop (the statement makes it stopped)", "stop", null, { status: "suspended", reason: "operator control" }],
    ["the control wins over a handover", "stop", { status: "queued", reason: "slot 1 moved" }, { status: "suspended", reason: "operator control" }],
    ["a handover to the queue", null, { status: "queued", reason: "slot 1 moved" }, { status: "queued", reason: "slot 1 moved" }],
    ["a drain with --suspend", null, { status: "suspended", reason: "worker w is draining" }, { status: "suspended", reason: "worker w is draining" }],
  ] as const)("%s", (_, control, handOver, expected) => {
    const p = afterCheckpoint(control, handOver);
    expect(p).toEqual(expected && { kind: "park", state: "keep", label: null, ...none, ...expected });
  });
});

const job = (status: AwaitedJob["status"], result: unknown = null, error: unknown = null): AwaitedJob => ({ status, result, error });
const stopped = (j: string) => ({ error: { message: `awaited job ${j} was stopped`, runbook: "", file: "", line: 0, column: 0, data: { job: j } } });
const missing = (j: string) => ({ error: { message: `no job ${j} to await`, runbook: "", file: "", line: 0, column: 0, data: null } });

describe("awaitedInput", () => {
  it.each([
    ["completed", job("completed", { ok: true }), { value: { ok: true } }],
    ["completed with no result", job("completed", null), { value: null }],
    ["failed", job("failed", null, err), { error: err }],
    ["failed without an error record", job("failed"), stopped("c")],
    ["stopped", job("stopped"), stopped("c")],
    ["missing", null, missing("c")],
  ] as const)("%s", (_, child, input) => {
    expect(awaitedInput("c", child)).toEqual(input);
  });
});

describe("settle: a park that finds what it waits on goes on at once", () => {
  const wait = parkPlan({ kind: "wait", signal: "s", timeoutMs: 10 }) as Park;
  const awaiting = parkPlan({ kind: "await", job: "c" }) as Park;
  it.each([
    ["a wait with its signal there", wait, { signal: { payload: [1] } }, { kind: "go", input: { value: [1] } }],
    ["a wait with a null payload", wait, { signal: { payload: null } }, { kind: "go", input: { value: null } }],
    ["a wait with an empty mailbox", wait, { signal: null }, { kind: "park", status: "waiting" }],
    ["an await of a completed job", awaiting, { awaited: job("completed", 7) }, { kind: "go", input: { value: 7 } }],
    ["an await of a failed job", awaiting, { awaited: job("failed", null, err) }, { kind: "go", input: { error: err } }],
    ["an await of a stopped job", awaiting, { awaited: job("stopped") }, { kind: "go", input: stopped("c") }],
    ["an await of no job", awaiting, { awaited: null }, { kind: "go", input: missing("c") }],
    ...(["queued", "running", "sleeping", "waiting", "suspended"] as const).map((s) => [`an await of a ${s} job`, awaiting, { awaited: job(s) }, { kind: "park", status: "waiting" }] as const),
    ["a sleep", parkPlan({ kind: "sleep", ms: 1 }) as Park, { signal: { payload: 1 } }, { kind: "park", status: "sleeping" }],
    ["a suspend", parkPlan({ kind: "suspend", reason: null }) as Park, {}, { kind: "park", status: "suspended" }],
  ] as const)("%s", (_, p, found, settled) => {
    expect(settle(p, found as Found)).toEqual(settled);
  });
});

describe("resumeInput: what a claimed job continues with", () => {
  const rewait = parkPlan({ kind: "wait", signal: "s", timeoutMs: null }) as Park;
  const reAwait = parkPlan({ kind: "await", job: "c" }) as Park;
  const again = (p: Park, more: Partial<Park> = {}): Resume => ({ kind: "park", park: { ...p, state: "keep", ...more } });
  const cases: [string, Parked, Found, Resume][] = [
    ["queued: nothing to answer", { waitSignal: null, awaitJob: null, timer: "none" }, {}, { kind: "go", input: undefined }],
    ["a sleep that is over", { waitSignal: null, awaitJob: null, timer: "over" }, {}, { kind: "go", input: undefined }],
    [
      "a sleep woken early",
      { waitSignal: null, awaitJob: null, timer: "running" },
      {},
      { kind: "park", park: { kind: "park", state: "keep", label: null, status: "sleeping", ...none, timer: { kind: "keep" }, reason: "sleep not over" } },
    ],
    ["a wait whose signal came", { waitSignal: "s", awaitJob: null, timer: "none" }, { signal: { payload: 1 } }, again(rewait, { timer: { kind: "keep" } })],
    ["a wait whose signal came as it timed out", { waitSignal: "s", awaitJob: null, timer: "over" }, { signal: { payload: 1 } }, again(rewait, { timer: { kind: "keep" } })],
    ["a wait that timed out", { waitSignal: "s", awaitJob: null, timer: "over" }, { signal: null }, { kind: "go", input: { value: null } }],
    ["a wait woken early", { waitSignal: "s", awaitJob: null, timer: "running" }, { signal: null }, again(rewait, { timer: { kind: "keep" } })],
    ["a wait with no timeout woken early", { waitSignal: "s", awaitJob: null, timer: "none" }, { signal: null }, again(rewait, { timer: { kind: "keep" } })],
    ["an await of a completed job", { waitSignal: null, awaitJob: "c", timer: "running" }, { awaited: job("completed", "r") }, { kind: "go", input: { value: "r" } }],
    ["an await of a failed job", { waitSignal: null, awaitJob: "c", timer: "running" }, { awaited: job("failed", null, err) }, { kind: "go", input: { error: err } }],
    ["an await of a stopped job", { waitSignal: null, awaitJob: "c", timer: "over" }, { awaited: job("stopped") }, { kind: "go", input: stopped("c") }],
    ["an await of a job that is gone", { waitSignal: null, awaitJob: "c", timer: "over" }, { awaited: null }, { kind: "go", input: missing("c") }],
    // The recheck timer starts anew: the awaited job's final write wakes it, this is the fallback.
    ["an await of a running job (the recheck)", { waitSignal: null, awaitJob: "c", timer: "over" }, { awaited: job("running") }, again(reAwait)],
    ["an await woken early", { waitSignal: null, awaitJob: "c", timer: "running" }, { awaited: job("waiting") }, again(reAwait)],
  ];
  it.each(cases)("%s", (_, parked, found, resume) => {
    expect(resumeInput(parked, found)).toEqual(resume);
  });

  it("a job parked on a wait, claimed with its signal there, goes on with it through settle", () => {
    const r = resumeInput({ waitSignal: "s", awaitJob: null, timer: "running" }, { signal: { payload: { ok: 1 } } });
    expect(r.kind).toBe("park");
    expect(settle((r as { park: Park }).park, { signal: { payload: { ok: 1 } } })).toEqual({ kind: "go", input: { value: { ok: 1 } } });
  });

  it("every park that waits, claimed again with nothing changed, parks again on the same thing", () => {
    for (const [, outcome, plan] of plans) {
      if (plan.kind !== "park" || plan.state !== "new") continue;
      const parked: Parked = { waitSignal: plan.waitSignal, awaitJob: plan.awaitJob, timer: plan.timer.kind === "none" ? "none" : "running" };
      const r = resumeInput(parked, { signal: null, awaited: plan.awaitJob === null ? undefined : job("running") });
      if (outcome.kind === "suspend") {
        expect(r).toEqual({ kind: "go", input: undefined }); // resumed by an operator: goes on
        continue;
      }
      expect(r.kind, outcome.kind).toBe("park");
      const again = (r as { park: Park }).park;
      expect([again.status, again.waitSignal, again.awaitJob, again.state]).toEqual([plan.status, plan.waitSignal, plan.awaitJob, "keep"]);
    }
  });
});

describe("parkedRow", () => {
  it.each([
    [false, false, "none"],
    [true, false, "running"],
    [true, true, "over"],
  ] as const)("has_timer %s, timed_out %s: %s", (has_timer, timed_out, timer) => {
    expect(parkedRow({ wait_signal: "s", await_job: null, has_timer, timed_out })).toEqual({ waitSignal: "s", awaitJob: null, timer });
  });
});
