// The front end's pipeline, read top to bottom like jlox's run(): find the files, read them,
// parse them all, check them all. Checking goes on when some files have syntax errors (the
// parser's tree is still there), so one run reports every error of every file.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { parse } from "../grammar/parse.js";
import { loadActivityModule } from "./activities.js";
import type { CheckedProject } from "./checked.js";
import { checkProject, type CheckInput, type ModuleLoader } from "./checker.js";
import { M, diag } from "./messages.js";
import { sortDiagnostics } from "./report.js";

export interface SourceText {
  file: string;
  text: string;
}

/** Files larger than this are refused with RB9003 rather than parsed. */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** Folders never searched for runbooks. */
const SKIPPED_FOLDERS = new Set(["node_modules", ".git", ".runbook"]);

/**
 * The text of every runbook at `paths` (files, or folders searched recursively for `*.runbook`),
 * with `overrides` (file → text, e.g. an editor's unsaved buffers) taking the place of what is on
 * disk and adding files that are not there. A path that does not exist or is not a runbook is an
 * `InputError` (bad usage); a file that cannot be read as text is a diagnostic.
 */
export function readProject(paths: string[], overrides: ReadonlyMap<string, string> = new Map()): ReadProject | InputError {
  const byKey = new Map([...overrides].map(([file, text]) => [path.resolve(file), { file, text }]));
  // A path that names a given file needs nothing from disk (it may not be saved yet).
  const onDisk = paths.filter((p) => !byKey.has(path.resolve(p)));
  const found = onDisk.length || !byKey.size ? findRunbookFiles(onDisk) : [];
  if (!Array.isArray(found)) return found;
  const sources: SourceText[] = [];
  const problems: Diagnostic[] = [];
  for (const file of found) {
    const given = byKey.get(path.resolve(file));
    if (given) {
      sources.push({ file, text: given.text });
      byKey.delete(path.resolve(file));
      continue;
    }
    const read = readSource(file);
    if (typeof read === "string") sources.push({ file, text: read });
    else problems.push(read);
  }
  for (const rest of byKey.values()) sources.push(rest);
  return { sources, problems };
}

export interface ReadProject {
  sources: SourceText[];
  /** Files that could not be read as text (RB9001..RB9003). */
  problems: Diagnostic[];
}

/** Bad usage of the project input: the CLI prints it as one line and exits 2. */
export interface InputError {
  kind: "input-error";
  message: string;
}

const inputError = (message: string): InputError => ({ kind: "input-error", message });

/** Parse and check runbooks given as text (tests, fuzzing, benchmarks). Pure apart from `use` modules. */
export function checkSources(files: SourceText[], loadModule: ModuleLoader = loadActivityModule): CheckedProject {
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const inputs: CheckInput[] = [];
  for (const { file, text } of files) {
    sources.set(file, text);
    const parsed = parse(file, text);
    diagnostics.push(...parsed.diagnostics);
    inputs.push({ file, ast: parsed.ast, hasSyntaxErrors: parsed.diagnostics.some((d) => d.severity === "error") });
  }
  const checked = checkProject(inputs, loadModule);
  diagnostics.push(...checked.diagnostics);
  return { runbooks: checked.runbooks, diagnostics: sortDiagnostics(diagnostics), sources };
}

// ---------------------------------------------------------------------------------------------
// Finding and reading files

export function findRunbookFiles(paths: string[]): string[] | InputError {
  if (paths.length === 0) return inputError("no runbook files or folders given");
  const found: string[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    const key = path.resolve(file);
    if (!seen.has(key)) {
      seen.add(key);
      found.push(file);
    }
  };
  for (const given of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(given);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return inputError(code === "ENOENT" || code === "ENOTDIR" ? `no such file or folder: ${given}` : `cannot read ${given}: ${code ?? String(err)}`);
    }
    if (stat.isDirectory()) {
      const inFolder: string[] = [];
      walk(given, inFolder);
      if (inFolder.length === 0) return inputError(`no .runbook files in ${given}`);
      inFolder.sort().forEach(add);
    } else if (given.endsWith(".runbook")) {
      add(given);
    } else {
      return inputError(`${given} is not a .runbook file`);
    }
  }
  return found;
}

function walk(folder: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch {
    return; // an unreadable sub-folder holds nothing we can check
  }
  for (const e of entries) {
    const full = path.join(folder, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(e.name) && !e.name.startsWith(".")) walk(full, out);
    } else if (e.name.endsWith(".runbook") && (e.isFile() || e.isSymbolicLink())) {
      out.push(full);
    }
  }
}

/** The file's text, or a diagnostic saying why it cannot be checked. */
function readSource(file: string): string | Diagnostic {
  const at = { file, start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_FILE_BYTES) return diag(M.tooLarge, at, [megabytes(size), megabytes(MAX_FILE_BYTES)]);
    bytes = fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return diag(M.unreadable, at, [e.code === "EISDIR" ? "it is a folder" : (e.code ?? e.message)]);
  }
  if (bytes.length > MAX_FILE_BYTES) return diag(M.tooLarge, at, [megabytes(bytes.length), megabytes(MAX_FILE_BYTES)]);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return diag(M.binaryFile, at, []);
  }
  if (text.includes("\u0000")) return diag(M.binaryFile, at, []);
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
