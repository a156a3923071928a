// Publishing: each runbook is stored as a version, the bundle of its compiled module and the
// modules of every runbook it calls inline or starts (transitively), under the hash of that
// code. A job records the version it started with and runs on it to the end. The version also
// pins the activity modules its runbooks use (runtime/activity-pins.ts): their hashes are part of
// the version's hash, so changed activity code publishes as a new version.
import { createHash } from "node:crypto";
import type { ParamInfo, Placement } from "./abi.js";
import { pinsOf, type DriftPolicy, type Pins } from "./activity-pins.js";
import type { Db } from "./db/connect.js";
import type { VersionRow } from "./rows.js";
import { publishVersion, type PublishResult } from "./sql/versions.js";

/**
 * One compiled runbook as the compiler hands it over (compiler/compile.ts CompiledModule fits):
 * its code, and the metadata bundling needs, as data. Nothing is imported to read it back.
 */
export interface ModuleText {
  name: string;
  file: string;
  js: string;
  params: ParamInfo[];
  /** Runbooks it calls inline or starts. */
  calls: string[];
  /** `use` alias → path as written. */
  uses: Record<string, string>;
  /** The `.runbook` text it was compiled from, stored for reading (the console); not hashed. */
  source?: string;
  /** The header's group and concurrency (absent: neither). */
  placement?: Placement;
  /** A `parallel for` body (compiler/compile.ts): bundled with its runbook, not a root. */
  branchOf?: string;
}

export interface Bundle {
  hash: string;
  runbook: string;
  modules: VersionRow["modules"];
  params: ParamInfo[];
  /** Each bundled runbook's group and concurrency declaration (only those that have one). */
  placement: Record<string, Placement>;
  /** Hashes of the activity modules the bundle's runbooks use. */
  activities: Pins;
  activityDrift: DriftPolicy;
}

export interface BundleOptions {
  /** The project folder relative runbook files (and so `use` paths) are read from. */
  baseDir?: string;
  /** What a worker whose activity module differs does with the version's jobs (default: refuse). */
  activityDrift?: DriftPolicy;
}

/** Bundles every runbook of a compiled project (each with its transitive callees). */
export async function bundleProject(modules: ModuleText[], options: BundleOptions = {}): Promise<Bundle[]> {
  const activityDrift = options.activityDrift ?? "refuse";
  const byName = new Map(modules.map((m) => [m.name, m]));
  const out: Bundle[] = [];
  for (const root of modules) {
    // A `parallel for` body runs only as its runbook's branches: no version, no name to start.
    if (root.branchOf !== undefined) continue;
    const names = closure(root.name, (n) => byName.get(n)?.calls ?? []);
    const bundle: VersionRow["modules"] = {};
    const placement: Record<string, Placement> = {};
    for (const n of [...names].sort()) {
      const m = byName.get(n);
      if (!m) throw new Error(`runbook ${root.name} calls ${n}, which is not part of the project`);
      bundle[n] = m.source === undefined ? { file: m.file, js: m.js } : { file: m.file, js: m.js, source: m.source };
      if (m.placement) placement[n] = m.placement;
    }
    const activities = await pinsOf([...names].map((n) => byName.get(n)!), options.baseDir);
    const hash = versionHash(root.name, bundle, activities, activityDrift);
    out.push({ hash, runbook: root.name, modules: bundle, params: root.params, placement, activities, activityDrift });
  }
  return out;
}

function closure(root: string, edges: (name: string) => string[]): Set<string> {
  const seen = new Set<string>([root]);
  const todo = [root];
  while (todo.length) for (const next of edges(todo.pop()!)) if (!seen.has(next)) (seen.add(next), todo.push(next));
  return seen;
}

/**
 * sha256 over the root's name and each module's name and code, in name order, then the pinned
 * activity modules and the drift policy (a version without activities hashes as before them).
 */
export function versionHash(root: string, modules: VersionRow["modules"], activities: Pins = {}, drift: DriftPolicy = "refuse"): string {
  const h = createHash("sha256").update(`root\u0000${root}\u0000`);
  for (const name of Object.keys(modules).sort()) h.update(`${name}\u0000${modules[name].js}\u0000`);
  const pinned = Object.keys(activities).sort();
  for (const module of pinned) h.update(`activity\u0000${module}\u0000${activities[module]}\u0000`);
  if (pinned.length > 0 && drift !== "refuse") h.update(`drift\u0000${drift}\u0000`);
  return h.digest("hex");
}

export interface Published {
  runbook: string;
  hash: string;
  result: PublishResult;
}

export async function publishBundles(db: Db, bundles: Bundle[]): Promise<Published[]> {
  const out: Published[] = [];
  for (const b of bundles) out.push({ runbook: b.runbook, hash: b.hash, result: await publishVersion(db.pool, b) });
  return out;
}
