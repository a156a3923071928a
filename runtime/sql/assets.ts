// What an operator sees and removes of the stored assets (`runbook asset list|delete`): names,
// kinds and times, never a value. Storing and reading values (sealing secrets) lives with the
// built-in in runtime/builtins/asset.ts.
import type { QueryFn } from "../builtins/sql.js";
import { checkAssetName, commandActor } from "../builtins/asset.js";

export interface AssetInfo {
  name: string;
  secret: boolean;
  updatedAt: Date;
}

/** Every stored asset's name, kind and time (never a value), by name. */
export async function listAssets(query: QueryFn): Promise<AssetInfo[]> {
  const { rows } = await query("SELECT name, secret, updated_at FROM assets ORDER BY name", []);
  return rows.map((r) => ({ name: String(r.name), secret: r.secret === true, updatedAt: r.updated_at as Date }));
}

/** Deletes the asset; false when none has that name. */
export async function deleteAsset(query: QueryFn, name: string, actor: string = commandActor("asset delete").actor): Promise<boolean> {
  checkAssetName(name);
  // Deleting a secret is audited (asset_audit), in the same statement.
  const { rows } = await query(
    `WITH gone AS (
       DELETE FROM assets WHERE name = $1 RETURNING name, secret
     ), audit AS (
       INSERT INTO asset_audit (asset, action, actor) SELECT name, 'delete', $2 FROM gone WHERE secret
     )
     SELECT name FROM gone`,
    [name, actor],
  );
  return rows.length > 0;
}
