// The cases of the lowering grid (test/compiler/grid.test.ts): each puts a suspension point in
// one construct; names say which construct, where the suspension sits, and what passes through.
// Also compiled and typechecked by test/compiler/typecheck.test.ts.
import type { Json } from "../../runtime/abi.js";
import { positionGrid } from "./grid-positions.js";

export interface GridCase {
  /** Runbook sources; the first one is run. */
  src: string[];
  params?: Record<string, Json>;
  signals?: { name: string; value: Json }[];
  out: Json[];
  result?: Json;
  /** The job fails with this message (and, when given, at this line and column). */
  error?: { message: string; line?: number; column?: number; runbook?: string };
  /** Every activity call fails with this message (an Error thrown by the activity). */
  activityError?: string;
  /** At least this many suspension points are committed in the straight run. */
  suspensions?: number;
}

const child10 = `runbook child(n: number) -> number {
  checkpoint "in-child"
  return n * 10
}`;

export const grid: Record<string, GridCase> = {
  straightLine_noSuspension: {
    src: [`runbook t() -> number {
  let a = 1
  let b = a + 2
  output b
  return b * 2
}`],
    out: [3],
    result: 6,
    suspensions: 0,
  },
  straightLine_checkpointBetweenStatements: {
    src: [`runbook t(x: number) -> number {
  let a = x + 1
  checkpoint "one"
  let b = a * 2
  output b
  checkpoint
  return a + b
}`],
    params: { x: 1 },
    out: [4],
    result: 6,
    suspensions: 2,
  },
  paramDefaults_readAfterCheckpoint: {
    src: [`runbook t(a: number = 2, b: number = 1 + 2) -> number {
  checkpoint
  return a * b
}`],
    out: [],
    result: 6,
  },
  while_checkpointInBody: {
    src: [`runbook t() -> number {
  let i = 0
  let sum = 0
  while i < 3 {
    checkpoint
    sum += i
    i += 1
  }
  output sum
  return i
}`],
    out: [3],
    result: 3,
    suspensions: 3,
  },
  while_checkpointInBody_breakAndContinue: {
    src: [`runbook t() -> number {
  let i = 0
  while true {
    i += 1
    if i == 2 { continue }
    checkpoint
    output i
    if i >= 4 { break }
  }
  return i
}`],
    out: [1, 3, 4],
    result: 4,
  },
  forList_sleepInBody: {
    src: [`runbook t() {
  let xs = ["a", "b"]
  for x in xs {
    sleep 1s
    output x
  }
  output now()
}`],
    out: ["a", "b", "2026-01-01T00:00:02.000Z"],
    result: null,
    suspensions: 2,
  },
  forRange_checkpointInBody: {
    src: [`runbook t() {
  for i in 1..3 {
    checkpoint
    output i
  }
}`],
    out: [1, 2, 3],
    result: null,
  },
  forMapKeys_checkpointInBody: {
    src: [`runbook t() {
  let m = {b: 1, a: 2}
  for k in m {
    checkpoint
    output k
  }
}`],
    out: ["b", "a"],
    result: null,
  },
  forListWithIndex_checkpointInBody: {
    src: [`runbook t() {
  for i, x in ["p", "q"] {
    checkpoint
    output {i: i, x: x}
  }
}`],
    out: [
      { i: 0, x: "p" },
      { i: 1, x: "q" },
    ],
    result: null,
  },
  forMapEntries_checkpointInBody: {
    src: [`runbook t() {
  for k, v in {a: 1, b: 2} {
    checkpoint
    output k + "=" + str(v)
  }
}`],
    out: ["a=1", "b=2"],
    result: null,
  },
  forList_snapshotSurvivesReassignment: {
    src: [`runbook t() {
  let xs = [1, 2, 3]
  for x in xs {
    checkpoint
    xs = []
    output x
  }
  output len(xs)
}`],
    out: [1, 2, 3, 0],
    result: null,
  },
  forList_breakAndContinueAfterCheckpoint: {
    src: [`runbook t() {
  for x in [1, 2, 3, 4, 5] {
    checkpoint
    if x == 2 { continue }
    if x == 4 { break }
    output x
  }
  output "end"
}`],
    out: [1, 3, "end"],
    result: null,
  },
  if_checkpointInThenElseIfAndElse: {
    src: [`runbook t() {
  for i in 0..2 {
    if i == 0 {
      checkpoint "zero"
      output "then"
    } else if i == 1 {
      output "elif"
      checkpoint
    } else {
      checkpoint
      output "else"
    }
  }
}`],
    out: ["then", "elif", "else"],
    result: null,
    suspensions: 3,
  },
  if_onlyElseSuspends: {
    src: [`runbook t(x: bool) -> string {
  if x {
    output "yes"
  } else {
    sleep 5s
    output "no"
  }
  return "done"
}`],
    params: { x: false },
    out: ["no"],
    result: "done",
  },
  tryCatch_checkpointInBody_errorAfterIt: {
    src: [`runbook t() {
  try {
    output 1
    checkpoint
    fail "bad"
    output 2
  } catch err {
    output err.message
    output err.line
  }
  output 3
}`],
    out: [1, "bad", 5, 3],
    result: null,
  },
  tryCatch_checkpointInCatch: {
    src: [`runbook t() {
  try {
    fail "x"
  } catch e {
    checkpoint
    output e.message
  }
}`],
    out: ["x"],
    result: null,
  },
  tryCatch_errorInCatchAfterCheckpoint_escapesFrame: {
    src: [`runbook t() {
  try {
    fail "x"
  } catch e {
    checkpoint
    fail "y: " + e.message
  }
}`],
    out: [],
    error: { message: "y: x", line: 6, runbook: "t" },
  },
  tryCatch_runtimeFaultCaughtAcrossCheckpoint: {
    src: [`runbook t() {
  let xs = [1]
  try {
    checkpoint
    output xs[3]
  } catch e {
    output e.line
    output e.column
  }
}`],
    out: [5, 12], // the index expression's position, not its statement's
    result: null,
  },
  tryFinally_checkpointInFinally_normal: {
    src: [`runbook t() {
  try {
    output 1
  } finally {
    checkpoint
    output 2
  }
  output 3
}`],
    out: [1, 2, 3],
    result: null,
  },
  tryFinally_checkpointInFinally_returnThrough: {
    src: [`runbook t() -> number {
  try {
    output 1
    return 10
  } finally {
    checkpoint
    output 2
  }
  output 3
  return 0
}`],
    out: [1, 2],
    result: 10,
  },
  tryFinally_checkpointInFinally_breakThrough: {
    src: [`runbook t() -> number {
  let i = 0
  while true {
    i += 1
    try {
      if i == 2 { break }
      output i
    } finally {
      checkpoint
      output "f" + str(i)
    }
  }
  output "done"
  return i
}`],
    out: [1, "f1", "f2", "done"],
    result: 2,
  },
  tryFinally_checkpointInFinally_continueThrough: {
    src: [`runbook t() {
  let i = 0
  while i < 3 {
    i += 1
    try {
      if i == 2 { continue }
      output i
    } finally {
      checkpoint
      output "f" + str(i)
    }
    output "after"
  }
}`],
    out: [1, "f1", "after", "f2", 3, "f3", "after"],
    result: null,
  },
  tryFinally_checkpointInFinally_throwThroughToOuterCatch: {
    src: [`runbook t() {
  try {
    try {
      fail "inner"
    } finally {
      checkpoint
      output "f"
    }
  } catch e {
    output "caught " + e.message
  }
}`],
    out: ["f", "caught inner"],
    result: null,
  },
  tryFinally_nested_returnThroughTwoFinallies: {
    src: [`runbook t() -> string {
  try {
    try {
      checkpoint
      return "r"
    } finally {
      checkpoint
      output "inner"
    }
  } finally {
    output "outer"
    checkpoint
  }
  return "unreached"
}`],
    out: ["inner", "outer"],
    result: "r",
  },
  tryFinally_nested_breakThroughTwoFinallies: {
    src: [`runbook t() {
  for i in 1..3 {
    try {
      try {
        checkpoint
        if i == 2 { break }
        output i
      } finally {
        output "in" + str(i)
        checkpoint
      }
    } finally {
      checkpoint
      output "out" + str(i)
    }
  }
  output "end"
}`],
    out: [1, "in1", "out1", "in2", "out2", "end"],
    result: null,
  },
  tryFinally_nativeBreakInsideSplitFinallyRegion: {
    src: [`runbook t() {
  for i in 1..3 {
    try {
      for j in 1..3 {
        if j == 2 { break }
        output [i, j]
      }
      if i == 2 { break }
    } finally {
      checkpoint
      output "f" + str(i)
    }
  }
}`],
    out: [[1, 1], "f1", [2, 1], "f2"],
    result: null,
  },
  tryFinally_returnInFinallyDiscardsError: {
    src: [`runbook t() -> number {
  try {
    fail "x"
  } finally {
    checkpoint
    return 5
  }
  return 0
}`],
    out: [],
    result: 5,
  },
  tryFinally_breakInFinallyDiscardsError: {
    src: [`runbook t() {
  for i in 1..2 {
    try {
      fail "x"
    } finally {
      checkpoint
      break
    }
  }
  output "after"
}`],
    out: ["after"],
    result: null,
  },
  tryCatchFinally_suspendInEveryPart: {
    src: [`runbook t() {
  try {
    try {
      checkpoint
      fail "e1"
    } catch e {
      sleep 1s
      output e.message
      fail "e2"
    } finally {
      checkpoint
      output "fin"
    }
  } catch o {
    output o.message
  }
}`],
    out: ["e1", "fin", "e2"],
    result: null,
  },
  retry_checkpointInBody_succeedsOnThirdAttempt: {
    src: [`runbook t() {
  let tries = 0
  retry (attempts: 5) {
    tries += 1
    checkpoint
    if tries < 3 { fail "t" + str(tries) }
  }
  output tries
}`],
    out: [3],
    result: null,
  },
  retry_durableDelayWithBackoff_lastErrorPropagates: {
    src: [`runbook t() {
  let tries = 0
  try {
    retry (attempts: 3, delay: 1s, backoff: 2) {
      tries += 1
      fail "attempt " + str(tries)
    }
  } catch e {
    output e.message
  }
  output tries
  output now()
}`],
    out: ["attempt 3", 3, "2026-01-01T00:00:03.000Z"],
    result: null,
    suspensions: 2,
  },
  retry_noDelayNoSuspension_emittedWhole: {
    src: [`runbook t() {
  let tries = 0
  retry (attempts: 2) {
    tries += 1
    if tries < 2 { fail "x" }
  }
  output tries
}`],
    out: [2],
    result: null,
    suspensions: 0,
  },
  retry_breakOutOfEnclosingLoop: {
    src: [`runbook t() {
  for i in 1..3 {
    retry (attempts: 2, delay: 1s) {
      checkpoint
      if i == 2 { break }
      output i
    }
  }
  output "end"
}`],
    out: [1, "end"],
    result: null,
  },
  retry_nativeRetryBreakOutOfNativeLoop: {
    src: [`runbook t() {
  checkpoint
  for i in 1..3 {
    retry (attempts: 2) {
      if i == 2 { break }
      output i
    }
  }
  output "end"
}`],
    out: [1, "end"],
    result: null,
  },
  wait_signalDeliveredThenTimeout: {
    src: [`runbook t() {
  let v = wait "go" timeout 1m
  output v
  let w = wait "other" timeout 1s
  output w
}`],
    signals: [{ name: "go", value: { a: 1 } }],
    out: [{ a: 1 }, null],
    result: null,
    suspensions: 2,
  },
  wait_assignedIntoMapPath: {
    src: [`runbook t() -> map<any> {
  let m: map<any> = {k: 0}
  m["k"] = wait "go" timeout 1s
  return m
}`],
    signals: [{ name: "go", value: [1, 2] }],
    out: [],
    result: { k: [1, 2] },
  },
  suspend_withReason: {
    src: [`runbook t() {
  output 1
  suspend "needs a look"
  output 2
}`],
    out: [1, 2],
    result: null,
  },
  call_inlineSuspending_valueArrivesAtLanding: {
    src: [`runbook t() -> number {
  let r = child(2)
  output r
  return r + 1
}`, child10],
    out: [20],
    result: 21,
  },
  call_inlineSuspending_returnValue: {
    src: [`runbook t() -> number {
  checkpoint
  return child(n: 4)
}`, child10],
    out: [],
    result: 40,
  },
  call_inlineSuspending_compoundAssign: {
    src: [`runbook t() -> number {
  let acc = 1
  for i in 1..2 {
    acc += child(i)
  }
  return acc
}`, child10],
    out: [],
    result: 31,
  },
  call_inlineSuspending_returnedThroughCheckpointingFinally: {
    src: [`runbook t() -> number {
  try {
    return child(5)
  } finally {
    checkpoint
    output "cleanup"
  }
  return 0
}`, child10],
    out: ["cleanup"],
    result: 50,
  },
  call_inlineSuspending_asStatementValueDiscarded: {
    src: [`runbook t() {
  child(1)
  output "after"
}`, child10],
    out: ["after"],
    result: null,
  },
  wait_compoundAssignIntoRecordPath: {
    src: [`runbook t() -> map<any> {
  let m: map<any> = {n: {k: 1}}
  m["n"]["k"] += wait "inc" timeout 1s
  return m
}`],
    signals: [{ name: "inc", value: 41 }],
    out: [],
    result: { n: { k: 42 } },
  },
  call_inlineSuspending_errorCaughtInCaller: {
    src: [`runbook t() {
  try {
    let r = bad(1)
    output r
  } catch e {
    output e.message
    output e.runbook
    output e.line
  }
}`, `runbook bad(n: number) -> number {
  checkpoint
  fail "child failed"
}`],
    out: ["child failed", "bad", 3],
    result: null,
  },
  call_inlineSuspending_threeDeep: {
    src: [`runbook t() -> number {
  let a = mid(1)
  checkpoint
  return a + 1
}`, `runbook mid(x: number) -> number {
  let y = leaf(x + 1)
  output "mid " + str(y)
  return y * 2
}`, `runbook leaf(z: number) -> number {
  sleep 1s
  output "leaf " + str(z)
  return z + 100
}`],
    out: ["leaf 2", "mid 102"],
    result: 205,
  },
  call_nonSuspending_insideExpression: {
    src: [`runbook t() -> number {
  checkpoint
  output add1(1) + add1(2)
  return add1(x: 10)
}`, `runbook add1(x: number) -> number {
  return x + 1
}`],
    out: [5],
    result: 11,
  },
  startAwait_childResult: {
    src: [`runbook t() -> number {
  let j = start child(n: 3)
  checkpoint
  let r = await j
  output r
  return r
}`, child10],
    out: [30],
    result: 30,
  },
  startAwait_childFailsCaughtInParent: {
    src: [`runbook t() {
  let j = start bad()
  try {
    let r = await j
    output r
  } catch e {
    output "child: " + e.message
  }
}`, `runbook bad() -> number {
  fail "no"
}`],
    out: ["child: no"],
    result: null,
  },
  nested3_forInTryInWhile_errorsAcrossCheckpoints: {
    src: [`runbook t() -> list<string> {
  let trace: list<string> = []
  let round = 0
  while round < 2 {
    round += 1
    try {
      for x in [1, 2, 3] {
        checkpoint
        if x == 2 and round == 2 { fail "r2x2" }
        trace += [str(round) + ":" + str(x)]
      }
    } catch e {
      checkpoint
      trace += ["caught " + e.message]
    } finally {
      trace += ["fin " + str(round)]
    }
  }
  return trace
}`],
    out: [],
    result: ["1:1", "1:2", "1:3", "fin 1", "2:1", "caught r2x2", "fin 2"],
  },
  nested3_retryInIfInFor_withCallInside: {
    src: [`runbook t() -> number {
  let total = 0
  for i in 1..3 {
    if i != 2 {
      let tries = 0
      retry (attempts: 2, delay: 1s) {
        tries += 1
        let v = child(i)
        if tries == 1 { fail "first try" }
        total += v
      }
    }
  }
  return total
}`, child10],
    out: [],
    result: 40,
  },
  errorEscapesFrame_positionOfStatement: {
    src: [`runbook t() {
  checkpoint
  let xs = [1]
  let y = xs[5]
}`],
    out: [],
    error: { message: "", line: 4, runbook: "t" },
  },
  valueSemantics_noAliasingAcrossCheckpoint: {
    src: [`runbook t() {
  let a = [1, 2]
  let b = a
  b[0] = 9
  checkpoint
  output a
  output b
  let m = {x: {y: 1}}
  let n = m
  n.x.y += 5
  checkpoint
  output m
  output n
}`],
    out: [[1, 2], [9, 2], { x: { y: 1 } }, { x: { y: 6 } }],
    result: null,
  },
  oddNames_objectPrototypeMembersAsLocalsAndParams: {
    src: [`runbook t(valueOf: number = 7) -> list<any> {
  let __proto__ = {a: 1}
  let constructor = "c"
  let toString = 2
  checkpoint
  toString += valueOf
  return [__proto__, constructor, toString]
}`],
    out: [],
    result: [{ a: 1 }, "c", 9],
  },
  shadowing_innerLetAcrossCheckpoint: {
    src: [`runbook t() {
  let x = 1
  if true {
    let x = "s"
    checkpoint
    output x
  }
  output x
}`],
    out: ["s", 1],
    result: null,
  },
  ...positionGrid,
};
