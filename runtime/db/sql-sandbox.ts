// The database a runbook's `sql()` runs on by default in the embedded setup: `runbook_sql`, owned
// by the role `runbook_sql`, which is not a superuser and may not create roles or databases.
// Being another database, it cannot name the runtime's tables at all (PostgreSQL has no
// cross-database queries); being no superuser, it cannot read files or run programs on the host
// (`COPY ... TO PROGRAM`, `pg_read_file`) nor grant itself more. The runtime's own database is
// closed to it (and to every other role but the superuser) with REVOKE CONNECT.
//
// Created once per cluster, idempotently, by runtime/db/local.ts with a generated password kept
// in `.runbook/db.json`; its URL is stored as the asset `sql.default` of the runtime's database
// (runtime/builtins/sql-connections.ts reads it).
import pg from "./pg.js";
import { getAsset, setAsset } from "../builtins/asset.js";
import type { QueryFn } from "../builtins/sql.js";

export const SQL_ROLE = "runbook_sql";
export const SQL_DATABASE = "runbook_sql";
/** The asset holding the URL of the connection `sql()` uses when the call names none. */
export const DEFAULT_CONNECTION_ASSET = "sql.default";

/** The sandbox's URL on the server of `adminUrl` (same host and port). */
export function sandboxUrl(adminUrl: string, password: string): string {
  const u = new URL(adminUrl);
  u.username = SQL_ROLE;
  u.password = password;
  u.pathname = `/${SQL_DATABASE}`;
  u.search = "";
  return u.toString();
}

/**
 * Creates the role (or resets its password and rights) and its database, and closes the
 * database of `adminUrl` (the runtime's) to everyone without an explicit grant. Safe to run
 * again and from concurrent processes.
 */
export async function ensureSqlSandbox(adminUrl: string, password: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const role = client.escapeIdentifier(SQL_ROLE);
    const rights = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";
    const exists = async (sql: string, name: string) => (await client.query(sql, [name])).rowCount === 1;
    if (!(await exists("SELECT 1 FROM pg_roles WHERE rolname = $1", SQL_ROLE))) {
      await client.query(`CREATE ROLE ${role} ${rights}`).catch(ignore("42710")); // duplicate_object: a concurrent creator won
    }
    await client.query(`ALTER ROLE ${role} ${rights} PASSWORD ${client.escapeLiteral(password)}`);
    if (!(await exists("SELECT 1 FROM pg_database WHERE datname = $1", SQL_DATABASE))) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(SQL_DATABASE)} OWNER ${role}`).catch(ignore("42P04")); // duplicate_database
    }
    const runtimeDb = client.escapeIdentifier((await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0].db);
    // PUBLIC may connect to every new database by default: not to the runtime's.
    await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${runtimeDb} FROM PUBLIC`);
  } finally {
    await client.end();
  }
  return sandboxUrl(adminUrl, password);
}

/**
 * Stores `url` as the default connection unless an operator already set one. With
 * RUNBOOK_SECRET_KEY set it is sealed like any secret; without a key (an embedded setup nobody
 * gave one) it is a plain asset: its password opens only the sandbox, whose rights every
 * runbook has anyway. A stored sandbox URL that differs from `url` only in its port is
 * replaced: the cluster started again on another port (its old one taken).
 */
export async function storeDefaultConnection(query: QueryFn, url: string): Promise<void> {
  const stored = await getAsset(query, DEFAULT_CONNECTION_ASSET).catch(() => undefined);
  const exists = (await query("SELECT 1 FROM assets WHERE name = $1", [DEFAULT_CONNECTION_ASSET])).rows.length > 0;
  if (exists && !(stored && typeof stored.value === "string" && movedOnly(stored.value, url))) return;
  await setAsset(query, DEFAULT_CONNECTION_ASSET, url, stored?.secret ?? Boolean(process.env.RUNBOOK_SECRET_KEY));
}

/** Are the two URLs the same but for a different port? */
function movedOnly(before: string, now: string): boolean {
  try {
    const a = new URL(before);
    const b = new URL(now);
    if (a.port === b.port) return false;
    a.port = b.port;
    return a.toString() === b.toString();
  } catch {
    return false;
  }
}

function ignore(code: string) {
  return (e: unknown) => {
    if ((e as { code?: string }).code !== code) throw e;
  };
}
