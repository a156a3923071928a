// `runbook compile PATH... --out DIR [--check]`: check the runbooks, then write one module per
// runbook (`NAME.ts` and the `NAME.js` the runtime loads), `abi.ts` (so the folder typechecks on
// its own) and `manifest.json` (names, files, hashes). A project with errors prints them as
// `runbook check` does and writes nothing. `--check` writes nothing and exits 1 when DIR is
// missing or any file in it differs from what compiling now would write.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { compile as compileRunbooks, type CompiledModule } from "../compiler/index.js";
import { formatDiagnostics } from "../compiler/report.js";
import { refuseInput } from "./errors.js";

export interface CompileOptions {
  out: string;
  check?: boolean;
}

/** What one run printed and its exit code (the tests call this; the CLI prints it). */
export interface CompileOutput {
  stdout: string;
  stderr: string;
  exitCode: 0 | 1;
}

export interface Manifest {
  abi: string;
  runbooks: { name: string; file: string; ts: string; js: string }[];
}

export async function compile(paths: string[], opts: CompileOptions): Promise<void> {
  const out = runCompile(paths, opts);
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.exitCode;
}

export function runCompile(paths: string[], opts: CompileOptions): CompileOutput {
  const { program: project, modules, inputError } = compileRunbooks({ paths });
  refuseInput(inputError);
  const errors = project.diagnostics.filter((d) => d.severity === "error").length;
  const report = formatDiagnostics(project.diagnostics, project.sources, "text");
  if (errors) {
    const warnings = project.diagnostics.length - errors;
    const files = new Set([...project.sources.keys(), ...project.diagnostics.map((d) => d.span.file)]).size;
    return { stdout: "", stderr: `${report}${count(errors, "error")}, ${count(warnings, "warning")} in ${count(files, "file")}\n`, exitCode: 1 };
  }
  const wanted = outputFiles(modules);
  return opts.check ? checkFolder(opts.out, wanted, report) : writeFolder(opts.out, wanted, report);
}

/** Every file the output folder should hold, by name, with its exact text. */
export function outputFiles(modules: CompiledModule[]): Map<string, string> {
  const files = new Map<string, string>();
  const abi = abiText();
  const manifest: Manifest = { abi: sha256(abi), runbooks: [] };
  files.set("abi.ts", abi);
  for (const m of modules) {
    files.set(`${m.name}.ts`, m.ts);
    files.set(`${m.name}.js`, m.js);
    manifest.runbooks.push({ name: m.name, file: m.file, ts: sha256(m.ts), js: sha256(m.js) });
  }
  files.set("manifest.json", `${JSON.stringify(manifest, null, 2)}\n`);
  return files;
}

/** The ABI the emitted modules import their types from: runtime/abi.ts as it is. */
export function abiText(): string {
  return fs.readFileSync(fileURLToPath(new URL("../runtime/abi.ts", import.meta.url)), "utf8");
}

function writeFolder(dir: string, wanted: Map<string, string>, report: string): CompileOutput {
  const previous = readManifest(dir);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of wanted) {
    const target = path.join(dir, name);
    if (readOrNull(target) !== text) fs.writeFileSync(target, text);
  }
  // Modules of runbooks that are gone: remove only what our own manifest said we wrote.
  for (const r of previous?.runbooks ?? []) {
    for (const ext of [".ts", ".js"]) {
      const name = `${r.name}${ext}`;
      if (!wanted.has(name)) fs.rmSync(path.join(dir, name), { force: true });
    }
  }
  const n = wanted.size - 2;
  return { stdout: "", stderr: `${report}compiled ${count(n / 2, "runbook")} into ${dir}\n`, exitCode: 0 };
}

function checkFolder(dir: string, wanted: Map<string, string>, report: string): CompileOutput {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    return { stdout: "", stderr: `${report}${dir} is missing: run runbook compile without --check\n`, exitCode: 1 };
  }
  const problems: string[] = [];
  for (const [name, text] of wanted) {
    const current = readOrNull(path.join(dir, name));
    if (current === null) problems.push(`missing: ${path.join(dir, name)}`);
    else if (current !== text) problems.push(`stale: ${path.join(dir, name)}`);
  }
  for (const r of readManifest(dir)?.runbooks ?? []) {
    for (const ext of [".ts", ".js"]) {
      const name = `${r.name}${ext}`;
      if (!wanted.has(name) && fs.existsSync(path.join(dir, name))) problems.push(`extra: ${path.join(dir, name)}`);
    }
  }
  if (problems.length === 0) return { stdout: "", stderr: `${report}${dir} is up to date\n`, exitCode: 0 };
  return { stdout: "", stderr: `${report}${problems.join("\n")}\n${dir} is out of date: run runbook compile without --check\n`, exitCode: 1 };
}

function readManifest(dir: string): Manifest | undefined {
  const text = readOrNull(path.join(dir, "manifest.json"));
  if (text === null) return undefined;
  try {
    const m = JSON.parse(text) as Manifest;
    return Array.isArray(m.runbooks) ? m : undefined;
  } catch {
    return undefined;
  }
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
