// Grid cases for error positions and for the `tsc --strict` shape of finally exits (part of
// `grid` in grid-cases.ts, so the lowering grid runs them straight and in both interrupted modes,
// and test/compiler/emit.test.ts typechecks their modules). An error carries the position of the
// expression that raised it (the failing call, index, operator or `fail`), set where it is
// raised, so a `finally` it passes through, native or split, cannot move it.
import type { GridCase } from "./grid-cases.js";

/** The example, with a suspension point at `at` (none, in the try, in the finally). */
function throughFinally(at: "none" | "try" | "finally"): GridCase {
  const inTry = at === "try" ? "      checkpoint\n" : "";
  const inFinally = at === "finally" ? "      checkpoint\n" : "";
  const line = at === "try" ? 5 : 4;
  return {
    src: [`runbook t() {
  try {
    try {
${inTry}      fail "boom"
    } finally {
${inFinally}      output "in finally"
      let z = 1 + 2
    }
  } catch e {
    output "\${e.message} at \${e.line}:\${e.column}"
  }
}`],
    out: ["in finally", `boom at ${line}:7`],
    result: null,
    suspensions: at === "none" ? 0 : 1,
  };
}

export const positionGrid: Record<string, GridCase> = {
  position_failThroughNativeFinally: throughFinally("none"),
  position_failThroughFinally_checkpointInTry: throughFinally("try"),
  position_failThroughSplitFinally: throughFinally("finally"),
  position_indexEscapesThroughFinally: {
    src: [`runbook t() {
  let xs = [1]
  try {
    output xs[5]
  } finally {
    output "f"
    let y = 1 + 1
  }
}`],
    out: ["f"],
    error: { message: "index 5 is out of range for a list of 1", line: 4, column: 12, runbook: "t" },
  },
  position_indexEscapesThroughSplitFinally: {
    src: [`runbook t() {
  let xs = [1]
  try {
    let n = 2 + xs[5]
  } finally {
    checkpoint
    output "f"
  }
}`],
    out: ["f"],
    error: { message: "index 5 is out of range for a list of 1", line: 4, column: 17, runbook: "t" },
  },
  position_innerOperatorOfAnExpression: {
    src: [`runbook t(z: number = 0) {
  checkpoint
  let a = 10 + 2 / z
}`],
    out: [],
    error: { message: "division by zero", line: 3, column: 16, runbook: "t" },
  },
  position_builtinCallInsideAnExpression: {
    src: [`runbook t(s: string = "x") {
  try {
    let v = 1 + num(s)
  } finally {
    output "f"
  }
}`],
    out: ["f"],
    error: { message: 'num: "x" is not a number', line: 3, column: 17, runbook: "t" },
  },
  position_comparisonInACondition: {
    src: [`runbook t() {
  let a: any = json_parse("1")
  checkpoint
  try {
    if a < "x" {
      output "no"
    }
  } finally {
    checkpoint
    output "f"
  }
}`],
    out: ["f"],
    error: { message: "cannot compare a number < a string", line: 5, column: 8, runbook: "t" },
  },
  position_calleeErrorKeepsTheCalleePosition: {
    src: [`runbook t() {
  try {
    let v = 1 + c(0)
  } finally {
    output "f"
  }
}`, `runbook c(n: number) -> number {
  return 10 / n
}`],
    out: ["f"],
    error: { message: "division by zero", line: 2, column: 10, runbook: "c" },
  },
  position_activityErrorAtTheCallThroughFinally: {
    src: [`runbook t() {
  checkpoint
  try {
    let r = 1 + exec(["true"]).code
  } finally {
    output "f"
    let z = 1 + 2
  }
}`],
    activityError: "refused",
    out: ["f"],
    error: { message: "refused", line: 4, column: 17, runbook: "t" },
  },
  position_activityErrorInANativeRetry: {
    src: [`runbook t() {
  retry (attempts: 2) {
    output "try"
    let r = exec(["true"])
  }
}`],
    activityError: "refused",
    out: ["try", "try"],
    error: { message: "refused", line: 4, column: 13, runbook: "t" },
  },
  position_memberOfAMapInALoopWithACheckpoint: {
    src: [`runbook t() -> list<number> {
  let ms: list<any> = [{a: 1}, {b: 2}]
  let got: list<number> = []
  for m in ms {
    checkpoint
    try {
      got += [m.a]
    } catch e {
      output "\${e.message} at \${e.line}:\${e.column}"
    } finally {
      got += [0]
    }
  }
  return got
}`],
    out: ['map has no key "a" at 7:15'],
    result: [1, 0, 0],
  },
  position_failInASplitRetry: {
    src: [`runbook t() {
  retry (attempts: 2) {
    checkpoint
    output "try"
    fail "r"
  }
}`],
    out: ["try", "try"],
    error: { message: "r", line: 5, column: 5, runbook: "t" },
  },
  position_failInANativeRetryThroughFinally: {
    src: [`runbook t() {
  retry (attempts: 2) {
    try {
      output "try"
      fail "r"
    } finally {
      output "f"
    }
  }
}`],
    out: ["try", "f", "try", "f"],
    error: { message: "r", line: 5, column: 7, runbook: "t" },
  },
  finallyEndsInIfBreak_afterCheckpointInTry: {
    src: [`runbook t() -> number {
  let n = 0
  while true {
    try {
      checkpoint
      n += 1
    } finally {
      output n
      if true {
        break
      }
    }
  }
  return n
}`],
    out: [1],
    result: 1,
  },
  finallyEndsInIfContinue_afterCheckpointInTry: {
    src: [`runbook t() -> number {
  let n = 0
  for _i in 1..3 {
    try {
      checkpoint
      n += 1
    } finally {
      if true {
        continue
      }
    }
  }
  return n
}`],
    out: [],
    result: 3,
  },
  finallyEndsInIfReturn_afterCheckpointInTry: {
    src: [`runbook t() -> number {
  try {
    checkpoint
  } finally {
    output "f"
    if true {
      return 7
    }
  }
  return 1
}`],
    out: ["f"],
    result: 7,
  },
};
