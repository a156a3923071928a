// The on-disk cache of activity modules' declarations, so that a process whose `use` modules did
// not change never loads TypeScript for them (the ES2022 library alone costs ~0.4 s of CPU to
// parse and bind, per process).
//
// An entry is found by a hash of the module's path and text, and is used only when everything
// else the mapping read is unchanged too, checked without TypeScript:
//   - `mapper`: a hash of the mapping's own source, compiler/activity-types.ts (the TypeScript →
//     runbook type mapping) and compiler/activities.ts (its compiler options and loading), and
//     of the ts-morph release (the TypeScript and library that answered);
//   - `deps`: every local file the module imports, transitively, by content hash;
//   - `probes`: every file and folder the import resolution looked for, with what it found then
//     (a `./types.js` that resolved to types.ts must not silently become a new types.d.ts).
// Types from packages are never read (they map to `any`), so nothing under node_modules matters.
//
// Entries live in `.runbook/cache/activities/` of the current folder (RUNBOOK_CACHE_DIR moves
// the cache root). The cache is only ever an optimisation: an unreadable, corrupt or foreign
// entry is a miss, a failed write is ignored, and deleting the folder loses nothing.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** What the mapping produced for a module: its functions as [name, function] pairs. */
export interface CachedDeclarations {
  functions: [string, unknown][];
}

/** One question the import resolution asked the file system, and its answer then. */
export type Probe =
  | { op: "file"; path: string; result: boolean }
  | { op: "dir"; path: string; result: boolean }
  | { op: "read"; path: string; result: string | null };

interface Entry {
  mapper: string;
  module: string;
  deps: { path: string; sha256: string }[];
  probes: Probe[];
  value: CachedDeclarations;
}

export function cacheDir(): string {
  return path.join(process.env.RUNBOOK_CACHE_DIR || path.join(process.cwd(), ".runbook", "cache"), "activities");
}

/** The sources whose text decides what a module maps to (relative to this file). */
const MAPPER_FILES = ["./activities.ts", "./activity-types.ts"];

let mapperHash: string | undefined;
/**
 * Changes whenever compiler/activities.ts, compiler/activity-types.ts or the installed ts-morph
 * (and its TypeScript) do. A file that comes to shape the mapping must be added to MAPPER_FILES.
 */
function mapperVersion(): string {
  if (mapperHash !== undefined) return mapperHash;
  const mapper = MAPPER_FILES.map((f) => fs.readFileSync(fileURLToPath(new URL(f, import.meta.url)), "utf8")).join("\0");
  const entry = createRequire(import.meta.url).resolve("ts-morph"); // .../ts-morph/dist/ts-morph.js
  const pkg = fs.readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8");
  mapperHash = sha256(`${mapper}\0${entry}\0${pkg}`);
  return mapperHash;
}

function entryFile(modulePath: string, text: string): string {
  return path.join(cacheDir(), `${sha256(`${modulePath}\0${text}`)}.json`);
}

/** The cached declarations of `modulePath` (whose current text is `text`), if still valid. */
export function readCached(modulePath: string, text: string): CachedDeclarations | undefined {
  try {
    const entry = JSON.parse(fs.readFileSync(entryFile(modulePath, text), "utf8")) as Entry;
    if (entry.mapper !== mapperVersion() || entry.module !== modulePath) return undefined;
    for (const dep of entry.deps) {
      if (hashFile(dep.path) !== dep.sha256) return undefined;
    }
    for (const probe of entry.probes) {
      if (!sameAnswer(probe)) return undefined;
    }
    return entry.value;
  } catch {
    return undefined; // no entry, or one we cannot read: a miss
  }
}

/**
 * Stores what the mapping of `modulePath` (text `text`) produced, with the local files it imports
 * (path → the very text the mapping read) and what the import resolution found.
 */
export function writeCached(modulePath: string, text: string, deps: Map<string, string>, probes: Probe[], value: CachedDeclarations): void {
  try {
    const hashed = [...deps].map(([dep, depText]) => ({ path: dep, sha256: sha256(depText) }));
    const entry: Entry = { mapper: mapperVersion(), module: modulePath, deps: hashed, probes, value };
    const file = entryFile(modulePath, text);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Write then rename: a concurrent reader sees the old entry, the new one or none, never half.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(entry));
    fs.renameSync(tmp, file);
    prune(path.dirname(file));
  } catch {
    // A read-only or full disk costs the next process its time, nothing else.
  }
}

/** Entries kept: every version of every module written (tests make many) must not pile up. */
export const MAX_ENTRIES = 200;

/** Past MAX_ENTRIES, removes the least recently written half (a write is a miss: rare). */
function prune(dir: string): void {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith(".json"));
  if (names.length <= MAX_ENTRIES) return;
  const aged = names.map((n) => {
    const at = path.join(dir, n);
    try {
      return { at, mtime: fs.statSync(at).mtimeMs };
    } catch {
      return { at, mtime: 0 };
    }
  });
  aged.sort((a, b) => a.mtime - b.mtime);
  for (const { at } of aged.slice(0, names.length - MAX_ENTRIES / 2)) fs.rmSync(at, { force: true });
}

/** Answers a probe the way the file system answers it now. */
export function answer(op: Probe["op"], file: string): boolean | string | null {
  if (op === "read") return hashFile(file);
  try {
    const stat = fs.statSync(file);
    return op === "file" ? stat.isFile() : stat.isDirectory();
  } catch {
    return false;
  }
}

function sameAnswer(probe: Probe): boolean {
  return answer(probe.op, probe.path) === probe.result;
}

function hashFile(file: string): string | null {
  try {
    return sha256(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
