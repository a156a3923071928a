// Reading and replacing sealed envelopes, for `runbook asset rekey` (runtime/rekey.ts): secret
// assets and job states that hold sealed secrets. Each replacement is a compare-and-set on the
// text read, so a write that came meanwhile (a worker's checkpoint, an operator's `asset set`)
// is never overwritten; the caller counts it as missed and runs again.
import type { Queryable } from "../rows.js";

export async function sealedAssets(db: Queryable): Promise<{ name: string; sealed: string }[]> {
  const { rows } = await db.query<{ name: string; sealed: string }>("SELECT name, sealed FROM assets WHERE secret ORDER BY name");
  return rows;
}

/** Replaces an asset's envelope if it is still `old`, auditing the rekey; false when it changed. */
export async function replaceSealedAsset(db: Queryable, name: string, old: string, sealed: string, actor: string): Promise<boolean> {
  const { rows } = await db.query(
    `WITH done AS (
       UPDATE assets SET sealed = $3 WHERE name = $1 AND secret AND sealed = $2 RETURNING name
     ), audit AS (
       INSERT INTO asset_audit (asset, action, actor) SELECT name, 'rekey', $4 FROM done
     )
     SELECT name FROM done`,
    [name, old, sealed, actor],
  );
  return rows.length === 1;
}

/** Jobs whose latest state holds sealed secrets, with the state as stored text. */
export async function jobsWithSealedState(db: Queryable): Promise<{ id: string; state: string }[]> {
  const { rows } = await db.query<{ id: string; state: string }>(
    "SELECT id, state::text AS state FROM jobs WHERE state IS NOT NULL AND state::jsonb ? 'sealed' ORDER BY id",
  );
  return rows;
}

/** Replaces a job's state if it is still `old` (as text); false when it changed meanwhile. */
export async function replaceJobState(db: Queryable, id: string, old: string, state: string): Promise<boolean> {
  const { rowCount } = await db.query("UPDATE jobs SET state = $3 WHERE id = $1 AND state::text = $2", [id, old, state]);
  return rowCount === 1;
}
