// The lowering grid: each case puts a suspension point in one construct (names say which, where,
// and what passes through it), compiles it with the real front end and back end, and runs it
// with the in-memory executor straight, interrupted at every suspension point, and interrupted
// before each checkpoint. All three must agree, and give the output and result written here.
import { describe, expect, it } from "vitest";
import { grid } from "./grid-cases.js";
import { outputs, runSources } from "./support.js";

describe("lowering grid (straight, interrupted at every suspension, interrupted before each checkpoint)", () => {
  for (const [name, c] of Object.entries(grid)) {
    it(name, async () => {
      const failing = c.activityError;
      const activity = failing === undefined ? undefined : async () => Promise.reject(new Error(failing));
      const r = await runSources(c.src, { params: c.params, signals: c.signals, activity });
      const straight = r.runs.straight;
      if (c.error) {
        expect(straight.ending.kind, JSON.stringify(straight.ending)).toBe("failed");
        if (straight.ending.kind === "failed") {
          if (c.error.message) expect(straight.ending.error.message).toBe(c.error.message);
          if (c.error.line !== undefined) expect(straight.ending.error.line).toBe(c.error.line);
          if (c.error.column !== undefined) expect(straight.ending.error.column).toBe(c.error.column);
          if (c.error.runbook) expect(straight.ending.error.runbook).toBe(c.error.runbook);
        }
      } else {
        expect(straight.ending).toEqual({ kind: "completed", result: c.result });
      }
      expect(outputs(straight)).toEqual(c.out);
      if (c.suspensions !== undefined) expect(straight.suspensions).toBe(c.suspensions);
      expect(r.divergence).toBeNull();
    });
  }
});
