// The connections `sql()` runs on: `sql(query, params, connection: "reporting")` uses the
// PostgreSQL URL stored in the asset `sql.reporting`; a call that names none uses `sql.default`.
// Never the runtime's own connection: a runbook's SQL cannot reach `jobs`, `assets` or any other
// runtime table unless an operator stores a URL that can (docs/runtime.md lists the grants).
//
// One small pool per URL, opened on first use and kept for the process; the asset is read on
// every call, so a rotated URL takes effect at the next call.
import pg from "../db/pg.js";
import type { Json } from "../abi.js";
import { checkAssetName, type AssetActor } from "./asset.js";
import type { QueryFn } from "./sql.js";

export const DEFAULT_CONNECTION = "default";

/** The asset that holds connection `name`'s URL. */
export function connectionAsset(name: string): string {
  return `sql.${name}`;
}

/** Reads an asset's value (opening a secret); rejects with a one-line error when it is not set. */
/** Reads an asset's value; `who` is recorded when it is a secret (asset_audit). */
export type AssetReader = (name: string, who?: AssetActor) => Promise<Json>;

/** Where `sql()` runs: a connection by name (`runbook test` may give a throw-away database). */
export interface SqlConnectionSource {
  /** The query function of connection `name` (undefined: the default), for `who` (a job). */
  connection(name: Json | undefined, who?: AssetActor): Promise<QueryFn>;
  close(): Promise<void>;
}

export class SqlConnections implements SqlConnectionSource {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly readAsset: AssetReader | undefined) {}

  /** The query function of connection `name` (default: "default"). */
  async connection(name: Json | undefined, who?: AssetActor): Promise<QueryFn> {
    const conn = name ?? DEFAULT_CONNECTION;
    if (typeof conn !== "string") throw new Error(`sql connection must be a name (a string), got ${JSON.stringify(conn)}`);
    const asset = connectionAsset(conn);
    checkAssetName(asset);
    if (!this.readAsset) throw new Error("sql is not available here: no runbook database is connected");
    const url = await this.readAsset(asset, who).catch((e: unknown) => {
      const how = conn === DEFAULT_CONNECTION ? "sql() has no default connection" : `sql connection ${JSON.stringify(conn)} is not set up`;
      throw new Error(`${how}: ${(e as Error).message}`);
    });
    if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) {
      throw new Error(`asset ${asset} must hold a PostgreSQL URL (postgres://user:password@host:port/database)`);
    }
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new pg.Pool({ connectionString: url, max: 2, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 10_000, application_name: `runbook sql ${conn}` });
      // An idle client losing its server must not crash the worker; the next call reconnects.
      pool.on("error", () => undefined);
      this.pools.set(url, pool);
    }
    const p = pool;
    return (text, params) => p.query(text, params);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }
}
