// Published runbooks: publishing compiled bundles, and the versions stored with their parameters.
import type { Db } from "../db/connect.js";
import { publishBundles, type Bundle, type Published } from "../publish.js";
import { getVersion, publishedVersions } from "../sql/versions.js";
import { OperatorError } from "./errors.js";
import type { RunbookView, VersionView } from "./views.js";

export function publish(db: Db, bundles: Bundle[]): Promise<Published[]> {
  return publishBundles(db, bundles);
}

/** Every published runbook name: its current version's parameters, and all its versions. */
export async function runbooks(db: Db): Promise<RunbookView[]> {
  const byName = new Map<string, RunbookView>();
  for (const v of await publishedVersions(db.pool)) {
    let rb = byName.get(v.runbook);
    if (!rb) {
      rb = { name: v.runbook, current: { hash: "", params: [], published_at: null }, versions: [] };
      byName.set(v.runbook, rb);
    }
    if (v.current) rb.current = { hash: v.hash, params: v.params, published_at: v.published_at };
    rb.versions.push({ hash: v.hash, created_at: v.created_at, current: v.current });
  }
  return [...byName.values()];
}

/** One stored version of runbook `name`: its parameters and each module's file and source text. */
export async function version(db: Db, name: string, hash: string): Promise<VersionView> {
  const v = await getVersion(db.pool, hash);
  if (!v || v.runbook !== name) throw new OperatorError(`runbook ${name} has no version ${hash}`, "not-found");
  const modules: VersionView["modules"] = {};
  for (const [n, m] of Object.entries(v.modules)) modules[n] = { file: m.file, source: m.source ?? null };
  return { runbook: v.runbook, hash: v.hash, created_at: v.created_at, params: v.params, modules };
}
