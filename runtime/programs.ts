// Loading published versions for running: each version's modules are imported once per process
// (runtime/load.ts caches by code) and kept by hash, with the activity modules it pins.
import type { CompiledRunbook } from "./abi.js";
import type { DriftPolicy, Pins } from "./activity-pins.js";
import { loadRunbook } from "./load.js";
import type { Queryable } from "./rows.js";
import { getVersion } from "./sql/versions.js";

export class VersionMissing extends Error {}

export interface Program {
  runbooks: Map<string, CompiledRunbook>;
  activities: Pins;
  activityDrift: DriftPolicy;
}

export class Programs {
  private readonly cache = new Map<string, Promise<Program>>();

  constructor(private readonly db: Queryable) {}

  /** The runbooks of a version by name (a driver Program); rejects with a one-line error if it cannot be loaded. */
  async get(hash: string): Promise<Map<string, CompiledRunbook>> {
    return (await this.version(hash)).runbooks;
  }

  /** The version's runbooks and its pinned activity modules. */
  version(hash: string): Promise<Program> {
    let p = this.cache.get(hash);
    if (!p) {
      p = this.load(hash);
      this.cache.set(hash, p);
      p.catch(() => this.cache.delete(hash));
    }
    return p;
  }

  private async load(hash: string): Promise<Program> {
    const version = await getVersion(this.db, hash);
    if (!version) throw new VersionMissing(`version ${hash.slice(0, 12)} of this job's runbook is missing from the database`);
    const runbooks = new Map<string, CompiledRunbook>();
    for (const [name, m] of Object.entries(version.modules)) {
      runbooks.set(name, await loadRunbook(m.js, `runbook ${name} (version ${hash.slice(0, 12)})`));
    }
    return { runbooks, activities: version.activities ?? {}, activityDrift: version.activity_drift ?? "refuse" };
  }
}
