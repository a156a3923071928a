// Published versions and the current version of each runbook name.
import type { ParamInfo, Placement } from "../abi.js";
import type { DriftPolicy, Pins } from "../activity-pins.js";
import { encodeJson } from "../json-text.js";
import type { Queryable, VersionRow } from "../rows.js";

export type PublishResult = "new" | "updated" | "unchanged";

/**
 * Stores a version (a no-op when its hash is already there) and makes it the current version of
 * its runbook. Republishing unchanged code changes nothing.
 */
export async function publishVersion(
  db: Queryable,
  v: { hash: string; runbook: string; modules: VersionRow["modules"]; params: ParamInfo[]; placement?: Record<string, Placement>; activities: Pins; activityDrift: DriftPolicy },
): Promise<PublishResult> {
  const { rows } = await db.query<{ result: PublishResult }>(
    `WITH stored AS (
       INSERT INTO versions (hash, runbook, modules, params, activities, activity_drift, placement) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (hash) DO NOTHING
     ), previous AS (
       SELECT version FROM runbooks WHERE name = $2
     ), current AS (
       INSERT INTO runbooks (name, version) VALUES ($2, $1)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, published_at = now()
         WHERE runbooks.version <> excluded.version
       RETURNING name
     )
     SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM previous) THEN 'new'
                 WHEN EXISTS (SELECT 1 FROM current) THEN 'updated'
                 ELSE 'unchanged' END AS result`,
    [v.hash, v.runbook, encodeJson(v.modules, "the version's modules"), encodeJson(v.params, "the runbook's parameters"), JSON.stringify(v.activities), v.activityDrift, JSON.stringify(v.placement ?? {})],
  );
  return rows[0].result;
}

/** The current version of a runbook name (its hash and parameters), or null if never published. */
export async function currentVersion(db: Queryable, name: string): Promise<{ hash: string; params: ParamInfo[] } | null> {
  const { rows } = await db.query<{ hash: string; params: ParamInfo[] }>(
    "SELECT v.hash, v.params FROM runbooks r JOIN versions v ON v.hash = r.version WHERE r.name = $1",
    [name],
  );
  return rows[0] ?? null;
}

export async function getVersion(db: Queryable, hash: string): Promise<VersionRow | null> {
  const { rows } = await db.query<VersionRow>("SELECT * FROM versions WHERE hash = $1", [hash]);
  return rows[0] ?? null;
}

/** Names of published runbooks (for "did you mean"). */
export async function publishedNames(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM runbooks ORDER BY name");
  return rows.map((r) => r.name);
}

export interface PublishedVersion {
  runbook: string;
  hash: string;
  params: ParamInfo[];
  created_at: Date;
  /** Whether `start NAME` runs this version now. */
  current: boolean;
  /** When it was made current (null for an older version). */
  published_at: Date | null;
}

/** Every stored version of every published runbook name, newest first per name. */
export async function publishedVersions(db: Queryable): Promise<PublishedVersion[]> {
  const { rows } = await db.query<PublishedVersion>(
    `SELECT v.runbook, v.hash, v.params, v.created_at, (r.version = v.hash) AS current,
            CASE WHEN r.version = v.hash THEN r.published_at END AS published_at
     FROM versions v JOIN runbooks r ON r.name = v.runbook
     ORDER BY v.runbook, v.created_at DESC, v.hash`,
  );
  return rows;
}
