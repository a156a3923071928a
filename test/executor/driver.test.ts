// The driver (resume) and the in-memory executor, with hand-written compiled runbooks.
import { describe, expect, it } from "vitest";
import type { CompiledRunbook, Json, JobState, StreamRecord } from "../../runtime/abi.js";
import { initialState, resume, type DriverContext, type Program } from "../../runtime/driver.js";
import { MODES, programOf, runAllModes, runInMemory, type CommitEvent, type MemoryActivity } from "../../runtime/memory.js";
import { hand, rethrow, value } from "./hand.js";

const counter = hand("counter", { 1: ["i", "n"] }, async (frame, ctx, _input, L) => {
  for (;;) {
    switch (frame.pc) {
      case 0:
        L.i = 0;
        L.scratch = "dead after pc 0";
        frame.pc = 1;
        continue;
      case 1:
        if (!ctx.ops.lt(L.i, L.n)) return { kind: "return", value: L.i };
        ctx.emit("output", L.i);
        L.i = ctx.ops.add(L.i, 1);
        return { kind: "checkpoint", label: "tick" };
    }
  }
});

/** inner(x): sleeps, then returns x * 2 (or fails when x is negative). */
const inner = hand("inner", { 1: ["x"] }, async (frame, ctx, _input, L) => {
  switch (frame.pc) {
    case 0:
      frame.pc = 1;
      ctx.emit("log", `inner ${ctx.ops.str(L.x)}`);
      return { kind: "sleep", ms: 60_000 };
    default:
      if (ctx.ops.lt(L.x, 0)) return { kind: "throw", error: { message: "negative", runbook: "inner", file: "inner.runbook", line: 3, column: 5, data: L.x } };
      return { kind: "return", value: ctx.ops.mul(L.x, 2) };
  }
});

/** outer: r = inner(x) (a frame), catching its error; then output r and now(). */
const outer = hand("outer", { 1: ["keep"], 2: [] }, async (frame, ctx, input, L) => {
  switch (frame.pc) {
    case 0:
      L.keep = "kept";
      L.tmp = "dead";
      frame.pc = 1;
      return { kind: "call", runbook: "inner", args: { x: L.x } };
    case 1:
      if (input && "error" in input) ctx.emit("output", `caught ${input.error.message} from ${input.error.runbook}:${input.error.line}`);
      else ctx.emit("output", `${ctx.ops.str(value(input))} ${ctx.ops.str(L.keep)}`);
      ctx.emit("output", ctx.ops.builtin("now", []));
      frame.pc = 2;
      return { kind: "checkpoint", label: null };
    default:
      return { kind: "return", value: "done" };
  }
});

function world(records: StreamRecord[] = []): DriverContext {
  return {
    emit: (r) => records.push(r),
    activity: async () => null,
    start: async (_r, _a, seq) => `child-${seq}`,
  };
}

const outputs = (records: StreamRecord[]) => records.filter((r) => r.stream === "output").map((r) => r.value);

describe("resume", () => {
  it("stops at each checkpoint with dead locals pruned, and completes", async () => {
    const program = programOf([counter]);
    const records: StreamRecord[] = [];
    let state: JobState = initialState("counter", { n: 2 });
    let r = await resume(state, program, world(records));
    expect(r.outcome).toEqual({ kind: "checkpoint", label: "tick" });
    expect(r.state.frames).toEqual([{ runbook: "counter", pc: 1, locals: { i: 1, n: 2 } }]);
    state = JSON.parse(JSON.stringify(r.state));
    r = await resume(state, program, world(records));
    r = await resume(r.state, program, world(records));
    expect(r.outcome).toEqual({ kind: "completed", result: 2 });
    expect(r.state.frames).toEqual([]);
    expect(outputs(records)).toEqual([0, 1]);
  });

  it("pushes a frame for a call, prunes every frame, and delivers the return value", async () => {
    const program = programOf([outer, inner]);
    const records: StreamRecord[] = [];
    const r1 = await resume(initialState("outer", { x: 21 }), program, world(records));
    expect(r1.outcome).toEqual({ kind: "sleep", ms: 60_000 });
    expect(r1.state.frames).toEqual([
      { runbook: "outer", pc: 1, locals: { keep: "kept" } },
      { runbook: "inner", pc: 1, locals: { x: 21 } },
    ]);
    const r2 = await resume(r1.state, program, world(records));
    expect(r2.outcome).toEqual({ kind: "checkpoint", label: null });
    expect(r2.state.frames).toEqual([{ runbook: "outer", pc: 2, locals: {} }]);
    expect(records[0]).toEqual({ stream: "log", value: "inner 21" });
    expect(outputs(records)[0]).toBe("42 kept");
  });

  it("delivers a callee's error to the caller", async () => {
    const records: StreamRecord[] = [];
    const program = programOf([outer, inner]);
    const r1 = await resume(initialState("outer", { x: -1 }), program, world(records));
    await resume(r1.state, program, world(records));
    expect(outputs(records)[0]).toBe("caught negative from inner:3");
  });

  it("fails the job with an error that escapes the bottom frame", async () => {
    const program = programOf([inner]);
    const r1 = await resume(initialState("inner", { x: -5 }), program, world());
    const r2 = await resume(r1.state, program, world());
    expect(r2.outcome).toEqual({ kind: "failed", error: { message: "negative", runbook: "inner", file: "inner.runbook", line: 3, column: 5, data: -5 } });
  });

  it("turns a bad step result or a stray exception into a failed outcome", async () => {
    const bad = hand("bad", {}, () => ({ kind: "yield" }) as never, { positions: { 0: [4, 2] } });
    const r = await resume(initialState("bad", {}), programOf([bad]), world());
    expect(r.outcome).toEqual({
      kind: "failed",
      error: { message: 'internal error in the compiled code of bad: step returned an unknown kind "yield"', runbook: "bad", file: "bad.runbook", line: 4, column: 2, data: null },
    });
    const boom = hand("boom", {}, () => {
      throw new TypeError("x is undefined");
    });
    const r2 = await resume(initialState("boom", {}), programOf([boom]), world());
    expect(r2.outcome.kind).toBe("failed");
    expect(r2.outcome.kind === "failed" && r2.outcome.error.message).toBe("internal error in the compiled code of boom: x is undefined");
    const undef = hand("undef", {}, () => ({ kind: "return" }) as never);
    const r3 = await resume(initialState("undef", {}), programOf([undef]), world());
    expect(r3.outcome.kind === "failed" && r3.outcome.error.message).toMatch(/a return needs a value/);
  });

  it("fails on an unknown runbook and on a corrupt state", async () => {
    const r = await resume(initialState("ghost", {}), programOf([]), world());
    expect(r.outcome.kind === "failed" && r.outcome.error.message).toBe("runbook ghost is not part of this job's program");
    const caller = hand("caller", {}, (frame, _ctx, input) => {
      if (frame.pc === 0) {
        frame.pc = 1;
        return { kind: "call", runbook: "ghost", args: {} };
      }
      return rethrow(input) ?? { kind: "return", value: null };
    });
    const r2 = await resume(initialState("caller", {}), programOf([caller]), world());
    expect(r2.outcome.kind === "failed" && r2.outcome.error.message).toBe("runbook ghost is not part of this job's program");
    for (const corrupt of [null, {}, { frames: [], seq: 0 }, { frames: [{ runbook: 1 }], seq: 0 }, { frames: [{ runbook: "x", pc: 0, locals: [] }], seq: 0 }]) {
      const r3 = await resume(corrupt as unknown as JobState, programOf([counter]), world());
      expect(r3.outcome.kind === "failed" && r3.outcome.error.message).toMatch(/^the job's state/);
    }
  });

  it("keeps every local of a pc the live table does not list", async () => {
    const m = hand("m", {}, (frame, _c, _i, L) => {
      L.a = 1;
      frame.pc = 7;
      return { kind: "suspend", reason: null };
    });
    const r = await resume(initialState("m", { p: 2 }), programOf([m]), world());
    expect(r.state.frames[0].locals).toEqual({ p: 2, a: 1 });
  });

  it("runs a non-suspending callee inline through ctx.call, its error as the callee's record", async () => {
    const double = hand("double", {}, (_f, ctx, _i, L) =>
      ctx.ops.lt(L.v, 0) ? { kind: "throw", error: { message: "no negatives", runbook: "double", file: "double.runbook", line: 2, column: 3, data: null } } : { kind: "return", value: ctx.ops.mul(L.v, 2) },
    );
    const user = hand("user", {}, async (_f, ctx) => {
      const a = await ctx.call("double", { v: 4 });
      try {
        await ctx.call("double", { v: -1 });
      } catch (e) {
        const rec = ctx.ops.fault(e, "user", "user.runbook", 9, 9);
        return { kind: "return", value: [a, rec.message, rec.runbook, rec.line] };
      }
      return { kind: "return", value: null };
    });
    const r = await resume(initialState("user", {}), programOf([user, double]), world());
    expect(r.outcome).toEqual({ kind: "completed", result: [8, "no negatives", "double", 2] });
    const uncaught = hand("uncaught", {}, async (_f, ctx) => ({ kind: "return", value: await ctx.call("double", { v: -2 }) }));
    const r2 = await resume(initialState("uncaught", {}), programOf([uncaught, double]), world());
    expect(r2.outcome.kind === "failed" && r2.outcome.error.runbook).toBe("double");
  });

  it("gives activities a private copy of their arguments and checks their results are JSON", async () => {
    const seen: Json[] = [];
    const ctx: DriverContext = {
      ...world(),
      activity: async (_m, fn, args) => {
        (args.list as Json[]).push("mutated");
        seen.push(args);
        return fn === "clock" ? { created: new Date(0) } : { ok: true };
      },
    };
    const caller = hand("caller", {}, async (_f, c, _i, L) => {
      L.list = [1];
      const ok = await c.activity("infra", "ping", { list: L.list });
      try {
        await c.activity("infra", "clock", { list: L.list });
      } catch (e) {
        return { kind: "return", value: [L.list, ok, c.ops.fault(e, "caller", "caller.runbook", 1, 1).message] };
      }
      return { kind: "return", value: null };
    });
    const r = await resume(initialState("caller", {}), programOf([caller]), ctx);
    expect(r.outcome).toEqual({ kind: "completed", result: [[1], { ok: true }, "infra.clock returned a value that is not JSON: result.created is a Date, not JSON"] });
  });

  it("numbers starts by state.seq, so a re-run from the same state starts the same child", async () => {
    const starter = hand("starter", { 1: ["a", "b"] }, async (frame, ctx, _i, L) => {
      if (frame.pc === 1) return { kind: "return", value: [L.a, L.b] };
      L.a = await ctx.start("kid", {});
      L.b = await ctx.start("kid", {});
      frame.pc = 1;
      return { kind: "checkpoint", label: null };
    });
    const saved = JSON.stringify({ frames: [{ runbook: "starter", pc: 0, locals: {} }], seq: 5 });
    const first = await resume(JSON.parse(saved), programOf([starter]), world());
    const again = await resume(JSON.parse(saved), programOf([starter]), world());
    expect(first.state).toEqual({ frames: [{ runbook: "starter", pc: 1, locals: { a: "child-5", b: "child-6" } }], seq: 7 });
    expect(again.state).toEqual(first.state);
  });
});

// ---------------------------------------------------------------------------------------------

/** parent: starts `kid` (twice: one awaited, one not), awaits it, waits for "go". */
const parent = hand("parent", { 1: ["j"], 2: [], 3: [] }, async (frame, ctx, input, L) => {
  switch (frame.pc) {
    case 0:
      L.j = await ctx.start("kid", { v: 3 });
      await ctx.start("kid", { v: -1 });
      ctx.emit("output", `started ${ctx.ops.str(L.j)}`);
      frame.pc = 1;
      return { kind: "await", job: L.j as string };
    case 1: {
      const thrown = rethrow(input);
      if (thrown) return thrown;
      ctx.emit("output", `kid said ${ctx.ops.str(value(input))}`);
      frame.pc = 2;
      return { kind: "wait", signal: "go", timeoutMs: 5_000 };
    }
    case 2:
      ctx.emit("output", `go ${ctx.ops.str(value(input))} at ${ctx.ops.str(ctx.ops.builtin("now", []))}`);
      frame.pc = 3;
      return { kind: "wait", signal: "go", timeoutMs: 5_000 };
    default:
      ctx.emit("output", `go ${ctx.ops.str(value(input))} at ${ctx.ops.str(ctx.ops.builtin("now", []))} ${ctx.ops.str(ctx.ops.builtin("uuid", []))}`);
      return { kind: "return", value: "ok" };
  }
});

const kid = hand("kid", { 1: ["v"] }, (frame, ctx, _i, L) => {
  if (frame.pc === 0) {
    frame.pc = 1;
    ctx.emit("output", `kid ${ctx.ops.str(L.v)}`);
    return { kind: "sleep", ms: 1000 };
  }
  if (ctx.ops.lt(L.v, 0)) return { kind: "throw", error: { message: "kid failed", runbook: "kid", file: "kid.runbook", line: 1, column: 1, data: null } };
  return { kind: "return", value: ctx.ops.mul(L.v, 10) };
});

describe("the in-memory executor", () => {
  it("gives the same streams and result in every mode, each segment twice before checkpoints", async () => {
    const program = programOf([counter]);
    const { runs, divergence } = await runAllModes(program, "counter", { n: 3 }, {});
    expect(divergence).toBeNull();
    for (const mode of MODES) {
      expect(outputs(runs[mode].streams)).toEqual([0, 1, 2]);
      expect(runs[mode].ending).toEqual({ kind: "completed", result: 3 });
      expect(runs[mode].suspensions).toBe(3);
    }
    expect(runs.straight.runs).toBe(4);
    expect(runs["before-checkpoint"].runs).toBe(8);
  });

  it("runs started children, awaits them, delivers signals and moves the fake clock", async () => {
    const program: Program = programOf([parent, kid]);
    const { runs, divergence } = await runAllModes(program, "parent", {}, { signals: [{ name: "go", value: { n: 1 } }] });
    expect(divergence).toBeNull();
    const run = runs["every-suspension"];
    expect(outputs(run.streams)).toEqual([
      "started job.0",
      "kid said 30",
      // the kid slept 1 s; the first wait took the signal, the second timed out after 5 s
      'go {"n":1} at 2026-01-01T00:00:01.000Z',
      "go null at 2026-01-01T00:00:06.000Z 00000000-0000-4000-8000-000000000000",
    ]);
    expect(run.ending).toEqual({ kind: "completed", result: "ok" });
    expect(run.children.map((c) => [c.id, c.ending.kind, outputs(c.streams)])).toEqual([
      ["job.0", "completed", ["kid 3"]],
      ["job.1", "failed", ["kid -1"]],
    ]);
  });

  it("re-raises an awaited child's error in the parent", async () => {
    const awaitFail = hand("await_fail", { 1: [] }, async (frame, ctx, input) => {
      if (frame.pc === 0) {
        frame.pc = 1;
        return { kind: "await", job: await ctx.start("kid", { v: -1 }) };
      }
      return rethrow(input) ?? { kind: "return", value: null };
    });
    const run = await runInMemory(programOf([awaitFail, kid]), "await_fail", {}, { mode: "before-checkpoint" });
    expect(run.ending).toEqual({ kind: "failed", error: { message: "kid failed", runbook: "kid", file: "kid.runbook", line: 1, column: 1, data: null } });
  });

  it("answers an await of an unknown job with an error", async () => {
    const ghost = hand("ghost", { 1: [] }, (frame, _c, input) => {
      if (frame.pc === 0) {
        frame.pc = 1;
        return { kind: "await", job: "nope" };
      }
      return rethrow(input) ?? { kind: "return", value: null };
    }, { positions: { 0: [2, 3], 1: [4, 5] } });
    const run = await runInMemory(programOf([ghost]), "ghost", {}, { mode: "straight" });
    expect(run.ending).toEqual({ kind: "failed", error: { message: 'there is no job "nope" to await', runbook: "ghost", file: "ghost.runbook", line: 4, column: 5, data: null } });
  });

  it("hands every committed state to onCommit, as plain JSON in the interrupted modes", async () => {
    const events: CommitEvent[] = [];
    await runInMemory(programOf([outer, inner]), "outer", { x: 1 }, { mode: "every-suspension", onCommit: (e) => events.push(structuredClone(e)) });
    expect(events.map((e) => e.outcome.kind)).toEqual(["sleep", "checkpoint", "completed"]);
    expect(events[0].state.frames.map((f) => f.locals)).toEqual([{ keep: "kept" }, { x: 1 }]);
  });

  it("notes a wait without timeout that got no signal, and stops an endless loop of suspensions", async () => {
    const forever = hand("forever", { 0: [] }, () => ({ kind: "wait", signal: "never", timeoutMs: null }));
    const run = await runInMemory(programOf([forever]), "forever", {}, { mode: "straight", maxSuspensions: 50 });
    expect(run.notes).toEqual(['wait "never" has no timeout and got no signal: it continued with null']);
    expect(run.ending.kind === "failed" && run.ending.error.message).toBe("stopped after 50 suspension points (an endless loop?)");
  });

  it("reports the first divergence of a nondeterministic runbook", async () => {
    let calls = 0;
    const flaky = hand("flaky", { 1: [] }, async (frame, ctx) => {
      if (frame.pc === 0) {
        frame.pc = 1;
        return { kind: "checkpoint", label: null };
      }
      ctx.emit("output", "same");
      ctx.emit("output", await ctx.activity("", "counter", {}));
      return { kind: "return", value: null };
    });
    const { divergence } = await runAllModes(programOf([flaky]), "flaky", {}, { activity: async () => ++calls, activities: "rerun" });
    expect(divergence).toBe("the run interrupted at every suspension point differs from the straight run: stream record 2 is output 2; the straight run wrote output 1");
  });

  it("runs activities once and replays their answers (results, errors, log lines) in the interrupted runs", async () => {
    const calls: string[] = [];
    const user = hand("user", { 1: ["a"], 2: ["a", "b"] }, async (frame, ctx, _i, L) => {
      switch (frame.pc) {
        case 0:
          L.a = await ctx.activity("infra", "create", { name: "vm1" });
          frame.pc = 1;
          return { kind: "checkpoint", label: null };
        case 1:
          try {
            await ctx.activity("infra", "configure", { id: L.a });
          } catch (e) {
            L.b = ctx.ops.fault(e, "user", "user.runbook", 1, 1).message;
          }
          frame.pc = 2;
          return { kind: "sleep", ms: 10 };
        default:
          return { kind: "return", value: [L.a, L.b] };
      }
    });
    const activity: MemoryActivity = async (module, fn, args, call) => {
      calls.push(`${call.job} ${module}.${fn} ${JSON.stringify(args)}`);
      call.log(`${fn} ran`);
      if (fn === "configure") throw new Error(`${args.id} is still booting`);
      return `id-${calls.length}`;
    };
    const { runs, divergence } = await runAllModes(programOf([user]), "user", {}, { activity });
    expect(divergence).toBeNull();
    expect(calls).toEqual(['job infra.create {"name":"vm1"}', 'job infra.configure {"id":"id-1"}']);
    for (const mode of MODES) {
      expect(runs[mode].ending).toEqual({ kind: "completed", result: ["id-1", "id-1 is still booting"] });
      expect(runs[mode].streams).toEqual([
        { stream: "log", value: "create ran" },
        { stream: "log", value: "configure ran" },
      ]);
    }
    expect(runs.straight.activityCalls.map((c) => c.outcome)).toEqual([{ value: "id-1" }, { error: "id-1 is still booting", data: null }]);
  });

  it("reports an interrupted run whose activity calls depart from the straight run's", async () => {
    let n = 0;
    const drifting = hand("drifting", { 1: [] }, async (frame, ctx) => {
      if (frame.pc === 0) {
        frame.pc = 1;
        return { kind: "checkpoint", label: null };
      }
      n += 1; // state outside the frame: lost by a real interruption
      await ctx.activity("", "exec", { argv: ["echo", `${n}`] });
      return { kind: "return", value: null };
    });
    const { divergence } = await runAllModes(programOf([drifting]), "drifting", {}, { activity: async () => ({ code: 0 }) });
    expect(divergence).toBe(
      'the run interrupted at every suspension point differs from the straight run: activity call 1 of job job is exec({"argv":["echo","2"]}); the straight run called exec({"argv":["echo","1"]})',
    );
  });

  it("compares child jobs too", async () => {
    let n = 0;
    const leakyKid = hand("leaky_kid", { 1: [] }, (frame, ctx) => {
      if (frame.pc === 0) {
        frame.pc = 1;
        return { kind: "checkpoint", label: null };
      }
      ctx.emit("output", `kid run ${++n}`);
      return { kind: "return", value: null };
    });
    const starter = hand("starter", {}, async (_f, ctx) => {
      await ctx.start("leaky_kid", {});
      return { kind: "return", value: null };
    });
    const { divergence } = await runAllModes(programOf([starter, leakyKid]), "starter", {}, {});
    expect(divergence).toBe(
      'the run interrupted at every suspension point differs from the straight run: in child job job.0 (leaky_kid), stream record 1 is output "kid run 2"; the straight run wrote output "kid run 1"',
    );
  });

  it("detects aliasing that a JSON round trip would break", async () => {
    // Two locals share one list; a checkpoint round trip splits them. A correct back end never
    // shares (value semantics); this proves the executor would notice one that did.
    const aliased = hand("aliased", { 1: ["a", "b"] }, (frame, ctx, _i, L) => {
      if (frame.pc === 0) {
        L.a = [1];
        L.b = L.a;
        frame.pc = 1;
        return { kind: "checkpoint", label: null };
      }
      (L.a as Json[]).push(2);
      ctx.emit("output", L.b);
      return { kind: "return", value: null };
    });
    const { divergence } = await runAllModes(programOf([aliased]), "aliased", {}, {});
    expect(divergence).toMatch(/^the run interrupted at every suspension point differs from the straight run: stream record 1 is output \[1\]; the straight run wrote output \[1,2\]$/);
  });

  it("drops the stream records of a segment that is re-run (exactly once)", async () => {
    const run = await runInMemory(programOf([outer, inner]), "outer", { x: 2 }, { mode: "before-checkpoint" });
    expect(run.streams.map((r) => r.value)).toEqual(["inner 2", "4 kept", "2026-01-01T00:01:00.000Z"]);
    expect(run.runs).toBe(6);
  });
});

export type { CompiledRunbook };
