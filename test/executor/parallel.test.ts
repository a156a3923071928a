// `parallel for` under `runbook test` (runtime/memory.ts): the branches run in memory, each
// interrupted at every suspension point like the parent, with the results the worker gives; a
// branch that behaves differently after an interruption is reported by its element. Also the
// checker's refusals and the pure join decisions (runtime/join.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import type { CompiledRunbook, Join } from "../../runtime/abi.js";
import { planJoin, type BranchRow } from "../../runtime/join.js";
import { loadRunbook } from "../../runtime/load.js";
import { programOf, runAllModes } from "../../runtime/memory.js";
import type { ActivityModule } from "../../compiler/activities.js";
import { checkSources } from "../../compiler/program.js";

const noModules = (_file: string, usePath: string, alias: string): ActivityModule => ({ alias, path: usePath, functions: new Map(), error: "no modules here" });
const checkText = (text: string) => checkSources([{ file: "t.runbook", text }], noModules).diagnostics;

const dir = fileURLToPath(new URL("./parallel", import.meta.url));
const compiled: CompiledRunbook[] = [];

beforeAll(async () => {
  const result = compile({ paths: [dir] });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  for (const m of result.modules) compiled.push(await loadRunbook(m.js, m.name));
});

describe("parallel for in memory", () => {
  it("gives every branch's result in element order, in every interruption mode", async () => {
    const { runs, divergence } = await runAllModes(programOf(compiled), "fanout", { hosts: ["a", "b", "c"] }, {});
    expect(divergence).toBeNull();
    const ending = runs.straight.ending;
    expect(ending).toEqual({
      kind: "completed",
      result: {
        names: ["a.example", "b.example", "c.example"],
        sizes: ["a=[2]", "b=[2,4]"],
        failures: [
          { index: 1, element: "b", error: expect.objectContaining({ message: "cannot reach b", runbook: "fanout__branch3", line: 23 }) },
          { index: 2, element: "c", error: expect.objectContaining({ message: "cannot reach c" }) },
        ],
      },
    });
    const branches = runs.straight.children.filter((c) => c.branch !== undefined);
    expect(branches.map((c) => `${c.runbook} ${c.branch}`)).toEqual([
      "fanout__branch1 a", "fanout__branch1 b", "fanout__branch1 c",
      // in the order they were started: both of `sizes`, then each one's nested branches
      "fanout__branch2 a", "fanout__branch2 b", "fanout__branch2__branch1 1", "fanout__branch2__branch1 1", "fanout__branch2__branch1 2",
      "fanout__branch3 a", "fanout__branch3 b", "fanout__branch3 c",
    ]);
    expect(branches[1].streams).toEqual([{ stream: "log", value: "restarting b" }]);
    // What `runbook test` prints: the branches' records marked with their elements, in commit
    // order, the same whichever run it is read from.
    expect(runs.straight.followed).toEqual(["a", "b", "c"].map((h) => ({ stream: "log", value: `restarting ${h}`, branch: h })));
    expect(runs["every-suspension"].followed).toEqual(runs.straight.followed);
    expect(runs["before-checkpoint"].followed).toEqual(runs.straight.followed);
    // Each branch was interrupted at its own suspension points: a checkpoint and a sleep.
    expect(runs["every-suspension"].children[0].runs).toBe(3);
  });

  it("names the element of a branch that differs after an interruption", async () => {
    let n = 0;
    const { divergence } = await runAllModes(programOf(compiled), "drift", { hosts: ["x", "y"] }, { activities: "rerun", activity: async () => ({ code: 0, stdout: String(n++), stderr: "" }) });
    expect(divergence).toMatch(/^the run interrupted at every suspension point differs from the straight run: in the branch for element x \(drift__branch1\), stream record 1 is log /);
  });
});

describe("the checker on parallel for", () => {
  const errors = (src: string) => checkText(src).filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`);
  it("refuses assigning an enclosing local, a limit that is no number, a bad on_error", () => {
    expect(errors(`runbook t(xs: list<string>) {\n  let n = 0\n  let _r = parallel for x in xs (limit: "2") {\n    n += 1\n  }\n}\n`)).toEqual([
      "RB2056 the `limit` of `parallel for` must be a number, got string",
      "RB2057 cannot assign `n` inside `parallel for`: it is a local of the enclosing runbook",
    ]);
    expect(errors(`runbook t(xs: list<string>) {\n  let _r = parallel for x in xs (on_error: "ignore", limit: 1, limit: 2) {\n  }\n}\n`)).toEqual([
      'RB1034 `on_error` must be "stop" or "continue"',
      "RB1035 `parallel for` option `limit` is given twice",
    ]);
  });
  it("types the result from the body's returns; parallel stays a name elsewhere", () => {
    expect(errors(`runbook t(xs: list<string>) -> list<number> {\n  let parallel = 2\n  let r = parallel for x in xs {\n    if x == "" {\n      return parallel\n    }\n    return len(x)\n  }\n  return r\n}\n`)).toEqual([]);
    expect(errors(`runbook t(xs: list<string>) -> list<number> {\n  let r = parallel for x in xs {\n    if x == "" {\n      return null\n    }\n    return len(x)\n  }\n  return r\n}\n`)).toEqual([
      "RB2009 runbook `t` returns list<number>, but this value is list<number?>",
    ]);
  });
});

describe("planJoin", () => {
  const join = (over: Partial<Join> = {}): Join => ({ runbook: "b", args: [{}, {}, {}, {}], elements: ["w", "x", "y", "z"], limit: 2, onError: "stop", key: 0, at: { runbook: "p", file: "p.runbook", line: 3, column: 5 }, ...over });
  const row = (index: number, status: BranchRow["status"], more: Partial<BranchRow> = {}): BranchRow => ({ index, status, result: null, error: null, ...more });
  const err = (message: string) => ({ message, runbook: "b", file: "p.runbook", line: 4, column: 7, data: null });
  it("starts up to the limit, in element order, and waits", () => {
    expect(planJoin(join(), [])).toEqual({ start: [0, 1], stop: false, settled: null });
    expect(planJoin(join(), [row(0, "completed"), row(1, "running")])).toEqual({ start: [2], stop: false, settled: null });
    expect(planJoin(join({ limit: null }), [])).toEqual({ start: [0, 1, 2, 3], stop: false, settled: null });
    expect(planJoin(join(), [row(0, "completed"), row(1, "completed"), row(2, "waiting"), row(3, "suspended")])).toEqual({ start: [], stop: false, settled: null });
  });
  it("goes on with the results in element order once all ended", () => {
    const rows = [3, 1, 0, 2].map((i) => row(i, "completed", { result: i * 10 }));
    expect(planJoin(join(), rows)).toEqual({ start: [], stop: false, settled: { value: [0, 10, 20, 30] } });
    expect(planJoin(join({ args: [], elements: [] }), [])).toEqual({ start: [], stop: false, settled: { value: [] } });
  });
  it("on_error stop: stops the rest and raises naming the lowest failed element", () => {
    const s = planJoin(join(), [row(0, "running"), row(1, "failed", { error: err("boom") }), row(2, "stopped")]);
    expect(s.start).toEqual([]);
    expect(s.stop).toBe(true);
    expect(s.settled).toEqual({ error: { message: "branch for element x failed: boom", runbook: "p", file: "p.runbook", line: 3, column: 5, data: { index: 1, element: "x", error: err("boom") } } });
  });
  it("on_error continue: runs on, then raises listing every failure", () => {
    expect(planJoin(join({ onError: "continue" }), [row(0, "failed", { error: err("a") }), row(1, "running")])).toEqual({ start: [2], stop: false, settled: null });
    const s = planJoin(join({ onError: "continue" }), [row(0, "failed", { error: err("a") }), row(1, "completed"), row(2, "stopped"), row(3, "completed")]);
    expect(s.settled).toEqual({
      error: expect.objectContaining({ message: "2 of 4 branches failed: w: a; y: the branch was stopped", data: [{ index: 0, element: "w", error: err("a") }, { index: 2, element: "y", error: expect.objectContaining({ message: "the branch was stopped" }) }] }),
    });
  });
});
