// The back end's pipeline, one runbook at a time: lower → build → liveness → metadata → emit →
// transpile. Reads as the architecture: each stage is one file and hands the next plain data.
import type { Project } from "ts-morph";
import { build } from "./build.js";
import type { CheckedProject, CheckedRunbook } from "./checked.js";
import { emitModule } from "./emit.js";
import { computeLiveness } from "./liveness.js";
import { lowerRunbook } from "./lower.js";
import { moduleMetadata, type ModuleMetadata } from "./metadata.js";
import { tsMorph } from "./ts-morph.js";

/** One compiled runbook: its metadata as data, and its code. */
export interface CompiledModule extends ModuleMetadata {
  /** A `parallel for` body: compiled and published with its runbook, never as a version of its own. */
  branchOf?: string;
  /** The emitted TypeScript module. */
  ts: string;
  /** The same module transpiled to an ES module (what the runtime loads). */
  js: string;
}

/** Compiles every runbook of a project without errors, in name order (deterministic). */
export function compileProject(project: CheckedProject): CompiledModule[] {
  const scratch = newScratchProject();
  const names = [...project.runbooks.keys()].sort();
  return names.map((name) => compileRunbook(project.runbooks.get(name)!, scratch));
}

export function compileRunbook(rb: CheckedRunbook, scratch: Project = newScratchProject()): CompiledModule {
  const lowered = lowerRunbook(rb);
  const built = build(lowered);
  const live = computeLiveness(lowered, built, lowered.slots);
  const meta = moduleMetadata(rb, lowered, built, live);
  const text = emitModule(scratch, { rb, lowered, built, meta });
  return { ...meta, ...(rb.branchOf ? { branchOf: rb.branchOf } : {}), ts: text, js: transpile(text, rb.signature.name) };
}

function newScratchProject(): Project {
  const { Project, IndentationText, QuoteKind, ts } = tsMorph();
  return new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, strict: true },
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Double },
  });
}

/**
 * TS → ESM JavaScript, types erased; `import type` leaves no import behind. With
 * `verbatimModuleSyntax` TypeScript needs no checker to decide which imports to drop (the
 * modules import types only), which more than halves the cost of each call (measured: 19 → 8 ms
 * CPU for a small module) with byte-identical output.
 */
export function transpile(text: string, name: string): string {
  const { ts } = tsMorph();
  return ts.transpileModule(text, {
    fileName: `${name}.ts`,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText;
}
