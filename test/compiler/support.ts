// Helpers for the back end's tests: compile runbook text through the real front end, load the
// emitted JavaScript the way the runtime does, and run it with the in-memory executor.
import { isDeepStrictEqual } from "node:util";
import type { JobState, Json } from "../../runtime/abi.js";
import type { Program } from "../../runtime/driver.js";
import { compile, type CheckedProject, type CompileResult, type CompiledModule } from "../../compiler/index.js";
import { formatDiagnostics } from "../../compiler/report.js";
import { loadRunbook } from "../../runtime/load.js";
import { programOf, runAllModes, type MemoryActivity, type ModeRuns, type Signal } from "../../runtime/memory.js";

/** The runbook name a source declares (files must be named after their runbook). */
export function runbookName(text: string): string {
  const m = /^\s*runbook\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(text);
  if (!m) throw new Error("no runbook declaration in the test source");
  return m[1];
}

/** Parses and checks sources (named NAME.runbook after their runbook); throws on any error. */
export function checked(sources: string[]): CheckedProject {
  return compiled(sources, false).program;
}

export function compileSources(sources: string[]): CompiledModule[] {
  return compiled(sources, true).modules;
}

function compiled(sources: string[], emit: boolean): CompileResult {
  const result = compile({ files: sources.map((text) => ({ file: `${runbookName(text)}.runbook`, text })) }, { emit });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(`test source has errors:\n${formatDiagnostics(errors, result.program.sources, "text")}`);
  return result;
}

export interface RunOptions {
  params?: Record<string, Json>;
  signals?: Signal[];
  activity?: MemoryActivity;
}

/**
 * Compiles the sources, runs the first one straight, interrupted at every suspension point and
 * interrupted before each checkpoint, and returns the runs (the caller asserts on them).
 */
export async function runSources(sources: string[], opts: RunOptions = {}): Promise<ModeRuns & { modules: CompiledModule[] }> {
  const modules = compileSources(sources);
  const loaded = await Promise.all(modules.map((m) => loadRunbook(m.js, m.name)));
  const program = programOf(loaded);
  const problems: string[] = [];
  const runs = await runAllModes(program, runbookName(sources[0]), opts.params ?? {}, {
    signals: opts.signals,
    activity: opts.activity,
    onCommit: (event) => problems.push(...stateProblems(event.state, program)),
  });
  if (problems.length) throw new Error(`bad committed states:\n${[...new Set(problems)].join("\n")}`);
  return { ...runs, modules };
}

/**
 * What is wrong with a committed state: it must survive JSON unchanged, and each frame may hold
 * only the locals its runbook lists as live at the frame's pc.
 */
export function stateProblems(state: JobState, program: Program): string[] {
  const problems: string[] = [];
  const text = JSON.stringify(state);
  if (!isDeepStrictEqual(JSON.parse(text), state)) problems.push(`state does not survive JSON: ${text}`);
  for (const f of state.frames) {
    const live = program.get(f.runbook)?.live[f.pc];
    if (!live) continue;
    for (const name of Object.keys(f.locals)) if (!live.includes(name)) problems.push(`${f.runbook} pc ${f.pc} keeps dead local ${name}`);
  }
  return problems;
}

/** The output stream's values of a run. */
export function outputs(run: { streams: { stream: string; value: Json }[] }): Json[] {
  return run.streams.filter((s) => s.stream === "output").map((s) => s.value);
}
