// The compiler's one entry point: `compile(project) → { modules, diagnostics }`. Everything that
// compiles runbooks goes through here: `runbook check|compile|test|publish`, the test support,
// the language server. Read → parse → check (compiler/program.ts), then, for a project without
// errors, lower → build → liveness → metadata → emit (compiler/compile.ts). Nothing is thrown
// for bad input: problems with the files are diagnostics, bad usage is `inputError`.
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { CheckedProject } from "./checked.js";
import type { ModuleLoader } from "./checker.js";
import { compileProject, type CompiledModule } from "./compile.js";
import { checkSources, readProject, type SourceText } from "./program.js";
import { sortDiagnostics } from "./report.js";

export type { Binding, BindingKind, Bindings, NameAt, Position } from "./bindings.js";
export { bindingAt, bindingsInScope } from "./bindings.js";
export type { ActivitySignature, CallResolution, CheckedProject, CheckedRunbook, Signature } from "./checked.js";
export type { CompiledModule } from "./compile.js";
export type { CallSite, ModuleMetadata, SuspensionPoint } from "./metadata.js";
export type { SourceText } from "./program.js";

/**
 * What to compile: files and folders on disk (folders are searched for `*.runbook`), and/or
 * file texts that take the place of the disk's (an editor's unsaved buffers) or add to it.
 * With only `files`, nothing is read from disk but the `use` modules.
 */
export interface ProjectInput {
  paths?: string[];
  files?: SourceText[];
  /** Reads `use` modules (default: compiler/activities.ts, from disk; tests pass a fake). */
  loadModule?: ModuleLoader;
}

export interface CompileOptions {
  /** Run the back end (default true). `false` checks only: `runbook check`, the language server. */
  emit?: boolean;
}

export interface CompileResult {
  /** One per runbook, in name order; empty when there is an error or `emit` is false. */
  modules: CompiledModule[];
  /** Every diagnostic of every file, sorted by file, line, column. */
  diagnostics: Diagnostic[];
  /** The checked program: runbooks with their calls, types and bindings; the sources. */
  program: CheckedProject;
  /** Bad usage, e.g. a path that does not exist: nothing was checked. The CLI exits 2. */
  inputError: string | undefined;
}

export function compile(project: ProjectInput, options: CompileOptions = {}): CompileResult {
  const overrides = new Map((project.files ?? []).map((f) => [f.file, f.text]));
  const read = readProject(project.paths ?? [], overrides);
  if ("kind" in read) {
    const program: CheckedProject = { runbooks: new Map(), diagnostics: [], sources: new Map() };
    return { modules: [], diagnostics: [], program, inputError: read.message };
  }
  const program = project.loadModule ? checkSources(read.sources, project.loadModule) : checkSources(read.sources);
  program.diagnostics = sortDiagnostics([...read.problems, ...program.diagnostics]);
  const failed = program.diagnostics.some((d) => d.severity === "error");
  const modules = options.emit === false || failed ? [] : compileProject(program);
  return { modules, diagnostics: program.diagnostics, program, inputError: undefined };
}
