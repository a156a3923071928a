// What an operator sees and removes of the stored assets (`runbook asset list|delete`): names,
// kinds and times, never a value. Storing and reading values (sealing secrets) lives with the
// built-in in runtime/builtins/asset.ts.
import type { QueryFn } from "../builtins/sql.js";
import { checkAssetName } from "../builtins/asset.js";

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
export async function deleteAsset(query: QueryFn, name: string): Promise<boolean> {
  checkAssetName(name);
  const { rows } = await query("DELETE FROM assets WHERE name = $1 RETURNING name", [name]);
  return rows.length > 0;
}
