// Liveness: which slots a checkpoint saves. Each case names a checkpoint by its label and lists
// the user locals (and, where it matters, the temporaries) live there.
import { describe, expect, it } from "vitest";
import { build } from "../../compiler/build.js";
import { computeLiveness } from "../../compiler/liveness.js";
import { lowerRunbook } from "../../compiler/lower.js";
import { checked, runbookName } from "./support.js";

/** Slots live at the resume point of `checkpoint "label"` in the first source's runbook. */
function liveAt(label: string, ...sources: string[]): string[] {
  const rb = checked(sources).runbooks.get(runbookName(sources[0]))!;
  const lowered = lowerRunbook(rb);
  const built = build(lowered);
  const live = computeLiveness(lowered, built, lowered.slots);
  const op = lowered.ops.find((o) => o.op === "suspend" && o.request.kind === "checkpoint" && o.request.label === label);
  if (!op || op.op !== "suspend") throw new Error(`no checkpoint "${label}"`);
  return live[built.pcs.get(op.resume)!];
}

const user = (slots: string[]): string[] => slots.filter((s) => !s.startsWith("$"));

describe("liveness at checkpoints", () => {
  it("a local not read after the checkpoint is not saved", () => {
    expect(liveAt("c", `runbook t() {
  let a = 1
  let b = 2
  output a
  checkpoint "c"
  output b
}`)).toEqual(["b"]);
  });

  it("a local overwritten after the checkpoint before any read is not saved", () => {
    expect(liveAt("c", `runbook t() {
  let a = 1
  output a
  checkpoint "c"
  a = 2
  output a
}`)).toEqual([]);
  });

  it("a partial update (a[0] = ...) reads the local, so it stays live", () => {
    expect(liveAt("c", `runbook t() {
  let a = [1, 2]
  checkpoint "c"
  a[0] = 5
  output a
}`)).toEqual(["a"]);
  });

  it("a loop counter is live at a checkpoint in the loop body", () => {
    expect(liveAt("c", `runbook t() {
  let i = 0
  while i < 3 {
    checkpoint "c"
    i += 1
  }
}`)).toEqual(["i"]);
  });

  it("a for loop keeps its snapshot and index, not a value overwritten before the next read", () => {
    const live = liveAt("c", `runbook t(xs: list<string>) {
  let last = ""
  for x in xs {
    output last
    checkpoint "c"
    last = x
  }
}`);
    expect(user(live)).toEqual(["x"]);
    expect(live.filter((s) => s.startsWith("$it") || s.startsWith("$i")).length).toBe(2);
  });

  it("a local read after the loop stays live inside it; one read only inside an iteration does not", () => {
    expect(user(liveAt("c", `runbook t(xs: list<number>) -> number {
  let total = 0
  for x in xs {
    let t = x * 2
    total += t
    checkpoint "c"
  }
  return total
}`))).toEqual(["total"]);
  });

  it("variables of a nested loop emitted whole do not leak into the live set", () => {
    expect(user(liveAt("c", `runbook t() {
  let n = 0
  while n < 2 {
    for y in [1, 2] {
      output y
    }
    checkpoint "c"
    n += 1
  }
}`))).toEqual(["n"]);
  });

  it("a catch handler's reads are live at every point of the try body that may throw", () => {
    expect(liveAt("c", `runbook t() {
  let a = 1
  try {
    checkpoint "c"
    a = 2
    fail "x"
  } catch e {
    output a
  }
}`)).toEqual(["a"]);
  });

  it("the catch binding is not live in the try body (the dispatcher writes it)", () => {
    expect(user(liveAt("c", `runbook t() {
  try {
    checkpoint "c"
    fail "x"
  } catch e {
    output e.message
  }
}`))).toEqual([]);
  });

  it("a pending completion is live across a checkpoint in the finally", () => {
    const live = liveAt("c", `runbook t() -> number {
  try {
    return 1
  } finally {
    checkpoint "c"
  }
  return 2
}`);
    expect(live.length).toBe(1);
    expect(live[0]).toMatch(/^\$c\d+$/);
  });

  it("the completion record is not live before the try statement sets it", () => {
    expect(liveAt("c", `runbook t() {
  for i in 1..2 {
    checkpoint "c"
    try {
      output i
    } finally {
      checkpoint "f"
    }
  }
}`).filter((s) => s.startsWith("$c"))).toEqual([]);
  });

  it("parameters are live only while something still reads them", () => {
    expect(liveAt("c", `runbook t(p: string, q: string) {
  output q
  checkpoint "c"
  output p
}`)).toEqual(["p"]);
  });

  it("the target of a value delivered after a suspension is not live before it arrives", () => {
    expect(liveAt("c", `runbook t() {
  let keep = 1
  checkpoint "c"
  let v = wait "go" timeout 1s
  output v
  output keep
}`)).toEqual(["keep"]);
  });

  it("retry counters are live inside a retry body that can fail again", () => {
    const live = liveAt("c", `runbook t() {
  retry (attempts: 3, delay: 1s) {
    checkpoint "c"
    fail "again"
  }
}`);
    expect(live.some((s) => s.startsWith("$attempt"))).toBe(true);
    expect(live.some((s) => s.startsWith("$error"))).toBe(false);
  });
});
