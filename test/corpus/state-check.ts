// Checks of a committed job state, used at every suspension point of the corpus:
// - it is plain JSON and survives JSON.stringify/JSON.parse unchanged;
// - every frame keeps only locals its runbook's `live` table lists for the frame's pc;
// - independently of the compiler's liveness analysis: every user local a frame keeps is still
//   mentioned in the runbook's source at or after the frame's resume position, or inside a loop
//   (`while`, `for`, `retry`) around that position. A local no later code can read is dead and
//   must not be saved. (Compiler temporaries, named `$...`, are checked against `live` only.)
import type * as ast from "../../grammar/ast.js";
import type { CompiledRunbook, JobState, Outcome } from "../../runtime/abi.js";
import { ops } from "../../runtime/values.js";

type Pos = [number, number];

function before(a: Pos, b: Pos): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function at(p: ast.Position): Pos {
  return [p.line, p.column];
}

interface SourceFacts {
  /** Every Name expression: its name and start. */
  mentions: { name: string; start: Pos }[];
  /** Spans of loops (while, for, retry). */
  loops: { start: Pos; end: Pos }[];
}

const facts = new WeakMap<ast.RunbookDecl, SourceFacts>();

function factsOf(decl: ast.RunbookDecl): SourceFacts {
  let f = facts.get(decl);
  if (f) return f;
  f = { mentions: [], loops: [] };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const x of node) walk(x);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const n = node as { kind?: string; span?: ast.Span; name?: unknown };
    if (n.kind === "Name" && typeof n.name === "string" && n.span) f!.mentions.push({ name: n.name, start: at(n.span.start) });
    if ((n.kind === "While" || n.kind === "For" || n.kind === "Retry") && n.span) f!.loops.push({ start: at(n.span.start), end: at(n.span.end) });
    for (const [k, v] of Object.entries(node)) if (k !== "span") walk(v);
  };
  walk(decl.body);
  facts.set(decl, f);
  return f;
}

/** What is wrong with a committed state, as a list of sentences (empty when nothing is). */
export function checkCommittedState(
  state: JobState,
  outcome: Outcome,
  compiled: (name: string) => CompiledRunbook | undefined,
  source: (name: string) => ast.RunbookDecl | undefined,
): string[] {
  const problems: string[] = [];
  try {
    ops.json(state, "state");
  } catch (e) {
    problems.push(`the state is not plain JSON: ${(e as Error).message}`);
  }
  const text = JSON.stringify(state);
  if (JSON.stringify(JSON.parse(text)) !== text) problems.push("the state changes through a JSON round trip");
  if (outcome.kind === "completed" || outcome.kind === "failed") {
    if (state.frames.length !== 0) problems.push(`a ${outcome.kind} job still has ${state.frames.length} frames`);
    return problems;
  }
  for (const frame of state.frames) {
    const rb = compiled(frame.runbook);
    if (!rb) {
      problems.push(`frame of unknown runbook ${frame.runbook}`);
      continue;
    }
    const live = rb.live[frame.pc];
    const where = `${frame.runbook} at pc ${frame.pc}`;
    if (!live) problems.push(`${where}: the live table has no entry for this suspension pc`);
    for (const name of Object.keys(frame.locals)) {
      if (live && !live.includes(name)) problems.push(`${where}: local ${name} is saved but not in live[${frame.pc}]`);
    }
    const pos = rb.positions[frame.pc];
    const decl = source(frame.runbook);
    if (!pos) {
      problems.push(`${where}: the positions table has no entry for this suspension pc`);
      continue;
    }
    if (!decl) continue;
    const f = factsOf(decl);
    const p: Pos = [pos[0], pos[1]];
    const inLoop = f.loops.filter((l) => !before(p, l.start) && before(p, l.end));
    for (const slot of Object.keys(frame.locals)) {
      if (slot.startsWith("$")) continue;
      const name = slot.split("$")[0];
      const needed = f.mentions.some((m) => m.name === name && (!before(m.start, p) || inLoop.some((l) => !before(m.start, l.start) && before(m.start, l.end))));
      if (!needed) problems.push(`${where} (line ${p[0]}): local ${slot} is saved but no later code mentions ${name}`);
    }
  }
  return problems;
}
