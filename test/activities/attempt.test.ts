// `ctx.attempt` under the in-memory executor (`runbook test`'s): each activity call sees the
// attempt of the innermost retry whose body holds it (1 outside any), through native retry
// loops and split ones (a checkpoint or a delay inside), nested both ways; the interrupted runs
// (restored from pruned checkpoints) must make the same calls with the same attempts.
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { activityRunner } from "../../cli/test.js";
import { compile } from "../../compiler/index.js";
import type { CompiledRunbook, Json } from "../../runtime/abi.js";
import { loadRunbook } from "../../runtime/load.js";
import { programOf, runAllModes, type ActivityCall } from "../../runtime/memory.js";

const folder = path.join("test", "activities", "fixtures", "attempts");
const compiled: CompiledRunbook[] = [];

beforeAll(async () => {
  const { diagnostics, modules } = compile({ paths: [folder] });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  for (const m of modules) compiled.push(await loadRunbook(m.js, m.name));
});

/** What the activity saw as ctx.attempt (its result, or the attempt its error names). */
function seen(c: ActivityCall): string {
  const key = (c.args as { key: string }).key;
  if ("value" in c.outcome) return `${key} ${String(c.outcome.value)}`;
  return `${key} ${/at attempt (\d+)/.exec(c.outcome.error)?.[1] ?? "?"} failed`;
}

describe("ctx.attempt", () => {
  it("is the innermost retry's attempt, per call, in every interrupt mode", async () => {
    const { runs, divergence } = await runAllModes(programOf(compiled), "attempts", {}, { activity: activityRunner(compiled) });
    const run = runs.straight;
    expect(run.ending).toEqual({ kind: "completed", result: null });
    expect(run.activityCalls.map(seen)).toEqual([
      "outside 1",
      "native 1 failed",
      "native 2 failed",
      "native 3",
      "split 1 failed",
      "split 2 failed",
      "split 3",
      "delayed 1 failed",
      "delayed 2 failed",
      "delayed 3",
      // outer native retry, attempt 1: the inner one runs twice, then the outer body fails
      "outer-native 1",
      "inner-native 1 failed",
      "inner-native 2",
      "outer-native-end 1 failed",
      // attempt 2: the inner retry starts over at 1
      "outer-native 2",
      "inner-native 1",
      "outer-native-end 2",
      // outer split retry, attempt 1: a call in the inner retry's catch is the inner's attempt
      "inner-split 1 failed",
      "inner-catch 1",
      "inner-split 2",
      "native-in-split 1 failed",
      "native-in-split 2",
      "outer-split 1",
      "outer-split-end 1 failed",
      "inner-split 1",
      "native-in-split 1",
      "outer-split 2",
      "outer-split-end 2",
      "after 1",
    ]);
    // What the executor recorded for each call is what the activity saw.
    for (const c of run.activityCalls) expect(seen(c)).toMatch(new RegExp(` ${c.attempt}( failed)?$`));
    expect(run.streams.filter((r) => r.stream === "output").map((r) => r.value as Json)).toContain("delayed 30");
    // The interrupted runs replay the straight run's answers only for the same call at the same
    // attempt: an attempt lost at a checkpoint would show here.
    expect(divergence).toBeNull();
    expect(runs["every-suspension"].activityCalls.map((c) => c.attempt)).toEqual(run.activityCalls.map((c) => c.attempt));
  });
});
