import { describe, expect, it } from "vitest";
import { outputs, runSources } from "./support.js";

describe("smoke", () => {
  it("runs a loop with a checkpoint and a try/catch across it", async () => {
    const r = await runSources([
      `runbook smoke(n: number = 3) -> number {
  let total = 0
  let i = 0
  while i < n {
    try {
      checkpoint "a"
      if i == 1 { fail "boom \${i}" }
      total += i
    } catch err {
      output "caught \${err.message} at \${err.line}"
      checkpoint "b"
    }
    i += 1
    output i
  }
  return total
}`,
    ]);
    expect(r.divergence).toBeNull();
    const s = r.runs.straight;
    expect(s.ending).toEqual({ kind: "completed", result: 2 });
    expect(outputs(s)).toEqual([1, "caught boom 1 at 7", 2, 3]);
  });
});
