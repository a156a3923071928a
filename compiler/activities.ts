// Finds and loads the `use` modules: reads their declarations (never their code) with ts-morph,
// then activity-types.ts maps each exported function to an ActivitySignature the checker checks
// calls against. This file owns the module's path, its local imports, the TypeScript project
// and compiler options, and the caches; the type mapping itself lives in activity-types.ts.
//
// One ts-morph Project is shared by every module, and each module's signatures are cached per
// resolved path and modification time, so many runbooks sharing a module cost one load. Across
// processes, compiler/activity-cache.ts keeps them on disk: a module that did not change (nor
// any local file it imports) is read back without loading TypeScript at all.
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import type { Project, ts as TsNamespace } from "ts-morph";
import { answer, readCached, writeCached, type Probe } from "./activity-cache.js";
import { bindTsMorph, readFunctions, type ActivityFunction } from "./activity-types.js";

export type { ActivityFunction } from "./activity-types.js";

export interface ActivityModule {
  /** The `use` alias. */
  alias: string;
  /** The module's resolved absolute path. */
  path: string;
  /** Exported functions by name (empty when `error` is set). */
  functions: Map<string, ActivityFunction>;
  /** A one-line reason the module could not be read (not found, not .ts, syntax error). */
  error?: string;
}

interface CachedModule {
  mtimeMs: number;
  error?: string;
  /** Spans carry the absolute path here; loadActivityModule rewrites them per caller. */
  functions: Map<string, ActivityFunction>;
}

const cache = new Map<string, CachedModule>();
let sharedProject: Project | undefined;

// ts-morph (and TypeScript with it) loads on the first `use`, not with the compiler: a project
// without activity modules does not pay a quarter second of CPU for it.
let ts: typeof TsNamespace;
function loadTsMorph(): typeof import("ts-morph") {
  const morph = createRequire(import.meta.url)("ts-morph") as typeof import("ts-morph");
  ts = morph.ts;
  bindTsMorph(morph);
  return morph;
}

// Only the module and the local files it imports are read: the ES2022 library (no DOM) and no
// package types (not even @types/node). Reading those costs seconds per process, and a type
// from a package can only be `any` here anyway: the run-time check (runtime/activities.ts)
// still refuses a value that is not JSON. Date, Map, Set and friends are in the library, so
// they are still reported at compile time.
function project(): Project {
  if (sharedProject) return sharedProject;
  const { Project } = loadTsMorph();
  sharedProject = new Project({
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      types: [],
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      allowImportingTsExtensions: true,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
    resolutionHost: (host, getOptions) => ({
      resolveModuleNames: (names, containingFile) =>
        names.map((name) => (name.startsWith(".") || path.isAbsolute(name) ? ts.resolveModuleName(name, containingFile, getOptions(), host).resolvedModule : undefined)),
    }),
  });
  return sharedProject;
}

/**
 * Loads the activity module `usePath` (relative to the runbook file's folder) used as `alias`.
 * Never throws: any problem with the module is `error`.
 */
export function loadActivityModule(runbookFile: string, usePath: string, alias: string): ActivityModule {
  const shown = path.isAbsolute(usePath) ? path.normalize(usePath) : path.normalize(path.join(path.dirname(runbookFile), usePath));
  const resolved = path.resolve(shown);
  let loaded: CachedModule;
  try {
    loaded = loadCached(resolved, shown);
  } catch (err) {
    // ts-morph or the TypeScript checker failing on some odd input must not crash the compiler.
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    loaded = { mtimeMs: -1, functions: new Map(), error: `cannot read it: ${message}` };
  }
  const functions = new Map<string, ActivityFunction>();
  for (const [name, fn] of loaded.functions) {
    // Cached messages start with the function's name; callers see it under their alias.
    const copy: ActivityFunction = { ...fn, module: alias, declaration: { ...fn.declaration, file: shown } };
    if (fn.unserializable) copy.unserializable = `${alias}.${fn.unserializable}`;
    if (fn.unsupportedParam) copy.unsupportedParam = `${alias}.${fn.unsupportedParam}`;
    functions.set(name, copy);
  }
  return loaded.error === undefined
    ? { alias, path: resolved, functions }
    : { alias, path: resolved, functions, error: loaded.error };
}

/** `shown` is the module's path as seen from the runbook's side, for messages. */
function loadCached(resolved: string, shown: string): CachedModule {
  if (/\.d\.m?ts$/.test(resolved)) {
    return { mtimeMs: -1, functions: new Map(), error: "a declaration file (.d.ts) has no code to run; use the .ts module" };
  }
  if (!/\.m?ts$/.test(resolved)) {
    return { mtimeMs: -1, functions: new Map(), error: "an activity module must be a TypeScript file (.ts)" };
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    return { mtimeMs: -1, functions: new Map(), error: `no such file ${shown}` };
  }
  if (!stat.isFile()) {
    return { mtimeMs: -1, functions: new Map(), error: `${shown} is not a file` };
  }
  const hit = cache.get(resolved);
  if (hit && hit.mtimeMs === stat.mtimeMs) return hit;
  const text = fs.readFileSync(resolved, "utf8");
  const stored = readCached(resolved, text);
  if (stored) {
    const entry: CachedModule = { mtimeMs: stat.mtimeMs, functions: new Map(stored.functions as [string, ActivityFunction][]) };
    cache.set(resolved, entry);
    return entry;
  }

  const p = project();
  // TypeScript reads exactly the texts the disk cache records (the module's, and its imports'
  // with what their resolution found), never a newer or older copy of one of them.
  const { deps, probes } = localImports(resolved, text, p.getCompilerOptions());
  for (const [dep, depText] of deps) {
    if (/\.[mc]?ts$/.test(dep)) p.createSourceFile(dep, depText, { overwrite: true });
  }
  const sf = p.createSourceFile(resolved, text, { overwrite: true });

  const entry: CachedModule = { mtimeMs: stat.mtimeMs, functions: new Map() };
  const syntax = p.getProgram().getSyntacticDiagnostics(sf);
  if (syntax.length > 0) {
    const d = syntax[0];
    const where = d.getStart() !== undefined ? sf.getLineAndColumnAtPos(d.getStart()!) : undefined;
    const text = ts.flattenDiagnosticMessageText(d.getMessageText() as string | TsNamespace.DiagnosticMessageChain, " ");
    entry.error = `TypeScript syntax error at ${shown}${where ? `:${where.line}:${where.column}` : ""}: ${text}`;
  } else {
    readFunctions(sf, resolved, entry.functions);
  }
  cache.set(resolved, entry);
  // A module with a syntax error is not stored: its message names the path as one runbook sees
  // it, and a compile that fails on it has no time to save anyway.
  if (entry.error === undefined) writeCached(resolved, text, deps, probes, { functions: [...entry.functions] });
  return entry;
}

/**
 * The local files `file` imports, transitively (path → text), resolved as the project resolves
 * them (relative and absolute specifiers only: packages are not read), and every file system
 * question the resolution asked, for the disk cache to ask again.
 */
function localImports(file: string, text: string, options: TsNamespace.CompilerOptions): { deps: Map<string, string>; probes: Probe[] } {
  const probes = new Map<string, Probe>();
  const ask = <K extends Probe["op"]>(op: K, at: string) => {
    const result = answer(op, at);
    probes.set(`${op}\0${at}`, { op, path: at, result } as Probe);
    return result;
  };
  const host: TsNamespace.ModuleResolutionHost = {
    fileExists: (f) => ask("file", f) === true,
    directoryExists: (d) => ask("dir", d) === true,
    readFile: (f) => (ask("read", f) === null ? undefined : fs.readFileSync(f, "utf8")),
  };
  const deps = new Map<string, string>();
  const queue: [string, string][] = [[file, text]];
  const visit = (target: string) => {
    if (target === file || deps.has(target)) return;
    let targetText: string;
    try {
      targetText = fs.readFileSync(target, "utf8");
    } catch {
      return;
    }
    deps.set(target, targetText);
    queue.push([target, targetText]);
  };
  for (let next = queue.pop(); next; next = queue.pop()) {
    const [from, fromText] = next;
    const info = ts.preProcessFile(fromText, true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".") && !path.isAbsolute(ref.fileName)) continue;
      const resolved = ts.resolveModuleName(ref.fileName, from, options, host).resolvedModule;
      if (resolved) visit(path.resolve(resolved.resolvedFileName));
    }
    for (const ref of info.referencedFiles) {
      const target = path.resolve(path.dirname(from), ref.fileName);
      if (ask("file", target) === true) visit(target);
    }
  }
  return { deps, probes: [...probes.values()] };
}
