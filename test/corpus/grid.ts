// The suspension grid: every suspension point in every construct, generated. A construct is a
// template with a HOLE; a suspension point is a snippet that suspends exactly once. The hole is
// wrapped so each visit is observable:
//
//   hits += 1
//   SNIPPET            (suspends once)
//   output "hit ${hits}"
//
// so a construct whose hole runs N times writes "hit 1" .. "hit N", then "end N", and reaches N
// suspension points (worked out per template below; the snippets check their own values and
// fail loudly when a value did not survive the suspension).

export interface Point {
  name: string;
  /** Statements that suspend exactly once; may use `hits` and the runbook-level `tries`. */
  code: string;
}

export interface Construct {
  name: string;
  /** Statements around `HOLE`. */
  code: string;
  /** How many times the hole runs. */
  visits: number;
  /** The job's result when the template returns one itself (no "end" record then). */
  returns?: string;
  /** The hole sits in a runbook this many inline calls down (0: in the job's own runbook). */
  depth?: number;
}

export const POINTS: Point[] = [
  { name: "checkpoint", code: 'checkpoint "grid"' },
  { name: "sleep", code: "sleep 1s" },
  { name: "suspend", code: 'suspend "grid ${hits}"' },
  { name: "wait_timeout", code: 'let w = wait "never" timeout 1s\nif w != null {\n  fail "a signal arrived"\n}' },
  { name: "wait_signal", code: 'let w = wait "sig" timeout 1s\nif w != hits * 10 {\n  fail "wrong signal ${w}"\n}' },
  { name: "await", code: 'let j = start g_child(hits)\nlet r = await j\nif r != hits * 2 {\n  fail "child gave ${r}"\n}' },
  { name: "retry_delay", code: 'retry (attempts: 2, delay: 1s) {\n  tries += 1\n  if tries % 2 == 1 {\n    fail "first attempt"\n  }\n}' },
  { name: "inline_call", code: 'let r = g_call(hits)\nif r != hits * 2 {\n  fail "call gave ${r}"\n}' },
];

export const CONSTRUCTS: Construct[] = [
  { name: "top", code: "HOLE", visits: 1 },
  { name: "while", code: "let i = 0\nwhile i < 3 {\n  i += 1\n  HOLE\n}", visits: 3 },
  { name: "for_list", code: 'for _x in ["a", "b"] {\n  HOLE\n}', visits: 2 },
  { name: "for_range", code: "for _n in 1..3 {\n  HOLE\n}", visits: 3 },
  { name: "for_map_keys", code: "let m: map<number> = {a: 1, b: 2}\nfor _k in m {\n  HOLE\n}", visits: 2 },
  { name: "for_index", code: 'for _i, _x in ["a", "b", "c"] {\n  HOLE\n}', visits: 3 },
  { name: "for_map_entries", code: "let m: map<number> = {a: 1, b: 2}\nfor _k, _v in m {\n  HOLE\n}", visits: 2 },
  { name: "if_then", code: 'if hits == 0 {\n  HOLE\n} else {\n  fail "else"\n}', visits: 1 },
  { name: "if_else", code: 'if hits > 0 {\n  fail "then"\n} else {\n  HOLE\n}', visits: 1 },
  { name: "else_if", code: 'if hits > 5 {\n  fail "a"\n} else if hits == 0 {\n  HOLE\n} else {\n  fail "c"\n}', visits: 1 },
  { name: "try", code: 'try {\n  HOLE\n} catch err {\n  fail "caught ${err.message}"\n}', visits: 1 },
  { name: "catch", code: 'try {\n  fail "x"\n} catch err {\n  HOLE\n  if err.message != "x" {\n    fail "lost the error"\n  }\n}', visits: 1 },
  { name: "finally", code: "try {\n  hits += 0\n} finally {\n  HOLE\n}", visits: 1 },
  { name: "finally_throw", code: 'try {\n  try {\n    fail "f"\n  } finally {\n    HOLE\n  }\n} catch err {\n  if err.message != "f" {\n    fail "lost the error"\n  }\n}', visits: 1 },
  { name: "finally_break", code: "while true {\n  try {\n    break\n  } finally {\n    HOLE\n  }\n}", visits: 1 },
  { name: "finally_continue", code: "for _n in 1..2 {\n  try {\n    continue\n  } finally {\n    HOLE\n  }\n}", visits: 2 },
  { name: "finally_return", code: 'try {\n  return "r${hits}"\n} finally {\n  HOLE\n}', visits: 1, returns: '"r0"' },
  { name: "retry", code: "retry (attempts: 2) {\n  HOLE\n}", visits: 1 },
  { name: "retry_again", code: 'let once = 0\nretry (attempts: 2) {\n  HOLE\n  once += 1\n  if once == 1 {\n    fail "once"\n  }\n}', visits: 2 },
  { name: "nested3", code: "let i = 0\nwhile i < 2 {\n  i += 1\n  for _n in 1..2 {\n    try {\n      hits += 0\n    } finally {\n      HOLE\n    }\n  }\n}", visits: 4 },
  { name: "nested3_retry", code: 'let m: map<number> = {a: 1, b: 2}\nretry (attempts: 2) {\n  for k, v in m {\n    if v == 2 {\n      HOLE\n    } else {\n      HOLE\n    }\n    if k == "" {\n      fail "empty key"\n    }\n  }\n}', visits: 2 },
  // Error positions (file line = template line + 3, column + 2): the error passes through a
  // finally holding the suspension point, then through a finally without one after the loop
  // suspended; the catch checks it still names the failing expression.
  { name: "fault_through_split_finally", code: 'try {\n  try {\n    let xs = [1, 2]\n    output xs[hits + 2]\n  } finally {\n    HOLE\n  }\n} catch err {\n  if "${err.line}:${err.column}" != "7:14" or err.message != "index 2 is out of range for a list of 2" {\n    fail "fault at ${err.line}:${err.column}: ${err.message}"\n  }\n}', visits: 1 },
  { name: "fault_after_hole_through_finally", code: 'try {\n  try {\n    let n = 0\n    while n < 5 {\n      n += 1\n      if n == 2 {\n        let q = 1 / (n - 2)\n      }\n      HOLE\n    }\n  } finally {\n    hits += 0\n  }\n} catch err {\n  if "${err.line}:${err.column}" != "10:19" or err.message != "division by zero" {\n    fail "fault at ${err.line}:${err.column}: ${err.message}"\n  }\n}', visits: 1 },
  { name: "inline_depth1", code: "HOLE", visits: 1, depth: 1 },
  { name: "inline_depth3", code: "for _n in 1..2 {\n  HOLE\n}", visits: 2, depth: 3 },
];

function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");
}

/** Puts the wrapped snippet into the template's hole(s), indented to match. */
function fill(construct: string, point: Point): string {
  const visit = `hits += 1\n${point.code}\noutput "hit \${hits}"`;
  return construct
    .split("\n")
    .map((line) => {
      const at = line.indexOf("HOLE");
      return at < 0 ? line : indent(visit, line.slice(0, at));
    })
    .join("\n");
}

export interface GridCase {
  name: string;
  files: { file: string; text: string }[];
  outputs: string[];
  result: unknown;
  suspensions: number;
}

/** The helper runbooks every grid case may use. */
export const GRID_HELPERS = [
  { file: "g_child.runbook", text: "runbook g_child(n: number) -> number {\n  sleep 1s\n  return n * 2\n}\n" },
  { file: "g_call.runbook", text: 'runbook g_call(n: number) -> number {\n  checkpoint "call"\n  return n * 2\n}\n' },
];

export function gridCase(c: Construct, p: Point): GridCase {
  const name = `grid_${c.name}_${p.name}`;
  const depth = c.depth ?? 0;
  const body = fill(c.code, p);
  const files: { file: string; text: string }[] = [];
  const level = (d: number) => (d === 0 ? name : `${name}_d${d}`);
  const outputs = Array.from({ length: c.visits }, (_, i) => `hit ${i + 1}`);
  if (depth === 0) {
    const end = c.returns ? "" : '\n  output "end ${hits}"';
    files.push({ file: `${name}.runbook`, text: `runbook ${name}() -> any {\n  let hits = 0\n  let tries = 0\n${indent(body, "  ")}${end}\n  return null\n}\n` });
  } else {
    // The job's runbook calls d1, d1 calls d2, ...; the deepest holds the construct and gives
    // its count of hits back up the stack.
    files.push({ file: `${name}.runbook`, text: `runbook ${name}() -> any {\n  let hits = ${level(1)}(0)\n  output "end \${hits}"\n  return null\n}\n` });
    for (let d = 1; d < depth; d++) {
      files.push({ file: `${level(d)}.runbook`, text: `runbook ${level(d)}(h: number) -> number {\n  let back = ${level(d + 1)}(h)\n  return back\n}\n` });
    }
    files.push({ file: `${level(depth)}.runbook`, text: `runbook ${level(depth)}(h: number) -> number {\n  let hits = h\n  let tries = 0\n${indent(body, "  ")}\n  return hits\n}\n` });
  }
  if (!c.returns) outputs.push(`end ${c.visits}`);
  return { name, files, outputs, result: c.returns ? JSON.parse(c.returns) : null, suspensions: c.visits };
}

export function gridCases(): GridCase[] {
  return CONSTRUCTS.flatMap((c) => POINTS.map((p) => gridCase(c, p)));
}
