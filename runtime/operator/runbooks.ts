// Published runbooks: publishing compiled bundles, and the versions stored with their parameters.
import type { Db } from "../db/connect.js";
import { publishBundles, type Bundle, type Published } from "../publish.js";
import { publishedVersions } from "../sql/versions.js";
import type { RunbookView } from "./views.js";

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
