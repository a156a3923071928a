// One analysis of the whole folder: the compiler's entry point (compiler/index.ts) checks every
// runbook, each file whose text did not change keeping its parse; the editor features read the
// checked program per file (its tree, its runbook's calls, types, bindings and `use` modules).
//
// This is the one place the server calls the compiler. Checking the whole project on every
// edit is what makes a file's diagnostics follow the files it depends on (a runbook it calls
// changed its parameters) with no dependency tracking here; bench/lsp.ts measures the cost.
import type * as ast from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { parse, type ParseResult } from "../grammar/parse.js";
import type { ActivityModule } from "../compiler/activities.js";
import type { CheckedProject, CheckedRunbook } from "../compiler/checked.js";
import { compile } from "../compiler/index.js";
import type { Bindings } from "./bindings.js";

export interface SourceFile {
  /** Absolute path. */
  file: string;
  text: string;
}

export interface FileAnalysis {
  file: string;
  text: string;
  ast: ast.SourceFileNode;
  /** The checked runbook declared in this file (absent when it has none, or a duplicate name). */
  checked: CheckedRunbook | undefined;
  /** `use` alias → the module it loaded (empty without a checked runbook). */
  modules: ReadonlyMap<string, ActivityModule>;
  /** Its runbook's bindings, as the checker recorded them (undefined without a checked runbook). */
  bindings: Bindings | undefined;
}

export interface Analysis {
  /** The checked program, as the compiler returned it. */
  program: CheckedProject;
  files: Map<string, FileAnalysis>;
  /** The project's runbooks by name (the first declaration of each name). */
  runbooks: Map<string, CheckedRunbook>;
  /** Every diagnostic of the project, by file. */
  diagnostics: Map<string, Diagnostic[]>;
}

/** Keeps each file's last parse, so an analysis after one edit parses one file. */
export class ParseCache {
  private readonly parses = new Map<string, { text: string; result: ParseResult }>();

  get(file: string, text: string): ParseResult {
    const hit = this.parses.get(file);
    if (hit && hit.text === text) return hit.result;
    const result = parse(file, text);
    this.parses.set(file, { text, result });
    return result;
  }

  /** Forget files no longer in the project. */
  keepOnly(files: Set<string>): void {
    for (const f of this.parses.keys()) if (!files.has(f)) this.parses.delete(f);
  }
}

/** `unreadable`: the diagnostics of files that could not be read as runbooks (compiler/program.ts readSource). */
export function analyze(sources: SourceFile[], unreadable: Diagnostic[], cache: ParseCache): Analysis {
  const { program, diagnostics } = compile({ files: sources, parse: (file, text) => cache.get(file, text) }, { emit: false });
  cache.keepOnly(new Set(sources.map((s) => s.file)));

  const byFile = new Map<string, CheckedRunbook>();
  for (const rb of program.runbooks.values()) byFile.set(rb.file, rb);
  const files = new Map<string, FileAnalysis>();
  for (const { file, text } of sources) {
    const tree = cache.get(file, text).ast;
    const rb = byFile.get(file);
    const own = rb && rb.decl === tree.runbook ? rb : undefined;
    files.set(file, { file, text, ast: tree, checked: own, modules: own?.modules ?? new Map(), bindings: own?.bindings });
  }

  const perFile = new Map<string, Diagnostic[]>();
  for (const d of [...unreadable, ...diagnostics]) {
    const list = perFile.get(d.span.file) ?? [];
    list.push(d);
    perFile.set(d.span.file, list);
  }
  return { program, files, runbooks: program.runbooks, diagnostics: perFile };
}
