// Activity code pinned to a published version. Publishing records, for each `use` module of the
// version's runbooks, a hash of the module's code; a worker compares it with the module on its
// own disk before it runs a job of that version (runtime/runner.ts). docs/activities.md, "Pinned
// activity code", says what a mismatch does.
//
// What the hash covers: the module file and every local file it imports, transitively (what
// esbuild's resolver reaches from it, with packages left out: the code under node_modules is the
// lockfile's business, not the version's). Each file counts by its path relative to the module
// and its content, so the same project checked out in another folder hashes the same.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Module path (as the worker resolves it, relative to its project folder) -> code hash. */
export type Pins = Record<string, string>;

/** What a worker does with a job whose pinned module differs from its own (publish flag). */
export type DriftPolicy = "refuse" | "run";

/** A runbook as far as pins care: its file and its `use` paths (CompiledRunbook fits). */
export interface UsingRunbook {
  file: string;
  uses: Record<string, string>;
}

/** One pinned module that differs on this worker. */
export interface Drift {
  module: string;
  published: string;
  /** The hash of the module here, or why it has none (missing, unreadable). */
  here: string;
}

/**
 * The pin key of a `use` path: the path the worker resolves against its project folder
 * (ActivityHost.resolveUse), relative unless the runbook file or the use path is absolute.
 */
export function pinKey(runbookFile: string, usePath: string): string {
  return path.isAbsolute(usePath) ? path.normalize(usePath) : path.normalize(path.join(path.dirname(runbookFile), usePath));
}

/** The modules the runbooks use, each with its hash; relative keys are read under `baseDir`. */
export async function pinsOf(runbooks: Iterable<UsingRunbook>, baseDir = process.cwd()): Promise<Pins> {
  const keys = new Set<string>();
  for (const r of runbooks) for (const use of Object.values(r.uses)) keys.add(pinKey(r.file, use));
  const pins: Pins = {};
  for (const key of [...keys].sort()) {
    const h = await moduleHash(path.resolve(baseDir, key));
    if (typeof h === "string") throw new Error(`activity module ${key}: ${h}`);
    pins[key] = h.hash;
  }
  return pins;
}

interface Hashed {
  hash: string;
  /** Every file the hash read, with the stat it had then. */
  files: { file: string; mtimeMs: number; size: number }[];
}

/** The module's hash, or a one-line reason it has none. */
export async function moduleHash(file: string): Promise<Hashed | string> {
  if (!fs.existsSync(file)) return "missing";
  const { build } = await import("esbuild");
  const dir = path.dirname(file);
  let inputs: string[];
  try {
    const result = await build({
      entryPoints: [file],
      absWorkingDir: dir,
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      packages: "external",
      logLevel: "silent",
    });
    inputs = Object.keys(result.metafile.inputs);
  } catch (e) {
    const first = (e as { errors?: { text: string }[] }).errors?.[0]?.text ?? (e as Error).message;
    return `cannot read its imports (${first.split("\n")[0]})`;
  }
  const h = createHash("sha256");
  const files: Hashed["files"] = [];
  for (const rel of inputs.sort()) {
    const abs = path.resolve(dir, rel);
    try {
      const st = fs.statSync(abs);
      files.push({ file: abs, mtimeMs: st.mtimeMs, size: st.size });
      h.update(`${rel.split(path.sep).join("/")}\u0000${createHash("sha256").update(fs.readFileSync(abs)).digest("hex")}\u0000`);
    } catch (e) {
      return `cannot read ${rel} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`; // removed meanwhile
    }
  }
  return { hash: h.digest("hex"), files };
}

/**
 * A worker's view of its modules: hashes them on first use and again only when a file they
 * read changed (size or modification time), so checking a claimed job costs a few `stat`s.
 */
export class PinChecker {
  private readonly cache = new Map<string, Promise<Hashed | string>>();

  constructor(private readonly baseDir = process.cwd()) {}

  /** The pinned modules that differ here (empty: the job may run on this worker). */
  async drift(pins: Pins): Promise<Drift[]> {
    const out: Drift[] = [];
    for (const [module, published] of Object.entries(pins)) {
      const here = await this.hash(path.resolve(this.baseDir, module));
      const hash = typeof here === "string" ? here : here.hash;
      if (hash !== published) out.push({ module, published, here: hash });
    }
    return out;
  }

  private hash(file: string): Promise<Hashed | string> {
    const hit = this.cache.get(file);
    const fresh = hit?.then((h) => typeof h !== "string" && h.files.every(unchanged));
    const next = (async () => ((await fresh) ? hit! : moduleHash(file)))();
    this.cache.set(file, next);
    return next;
  }
}

function unchanged(f: Hashed["files"][number]): boolean {
  try {
    const st = fs.statSync(f.file);
    return st.mtimeMs === f.mtimeMs && st.size === f.size;
  } catch {
    return false;
  }
}

/** One line for a job's history: which module differs, and how. */
export function describeDrift(drift: Drift[]): string {
  return drift
    .map((d) => `activity module ${d.module} differs from the version's (published ${d.published.slice(0, 12)}, here ${/^[0-9a-f]{64}$/.test(d.here) ? d.here.slice(0, 12) : d.here})`)
    .join("; ");
}
