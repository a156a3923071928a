// Opening the runtime's database: DATABASE_URL when set, else this folder's embedded cluster;
// migrations applied once per process; an unreachable server reported as one line naming its
// host, never a stack trace.
import pg from "pg";
import { decodeJson } from "../json-text.js";
import { ensureLocalDatabase, localSqlUrl } from "./local.js";
import { migrate } from "./migrate.js";
import { storeDefaultConnection } from "./sql-sandbox.js";
import { withClient } from "./tx.js";

export interface Db {
  pool: pg.Pool;
  url: string;
  /** Settings fixed per database. */
  slotCount: number;
  close(): Promise<void>;
}

export class DatabaseUnreachable extends Error {}

/** The database URL: DATABASE_URL, or the embedded database of `cwd` (started if needed). */
export async function databaseUrl(cwd = process.cwd()): Promise<string> {
  const url = process.env.DATABASE_URL;
  if (url) return url;
  try {
    return await ensureLocalDatabase(cwd);
  } catch (e) {
    throw new DatabaseUnreachable(`cannot start the embedded database under ${cwd}/.runbook: ${(e as Error).message}`);
  }
}

export interface OpenOptions {
  url?: string;
  /** Pool size. RUNTIME.md: "more connections than about 4 per core slow a 2-core server down". */
  max?: number;
  cwd?: string;
  /**
   * The server ends a session of this pool that sits idle inside a transaction this long
   * (`idle_in_transaction_session_timeout`). A worker paused or cut off in the middle of a
   * transaction (SIGSTOP, a partition) otherwise keeps the job row locked for as long as the
   * server keeps its connection (TCP keepalive: hours), and no other worker can take the job
   * over, its lease long expired. Workers pass their lease timeout.
   */
  idleInTransactionMs?: number;
}

export async function openDb(options: OpenOptions = {}): Promise<Db> {
  const url = options.url ?? (await databaseUrl(options.cwd));
  const settings = options.idleInTransactionMs ? [`idle_in_transaction_session_timeout=${Math.round(options.idleInTransactionMs)}`] : [];
  const pool = new pg.Pool({
    connectionString: withSessionSettings(url, settings),
    max: options.max ?? 4,
    connectionTimeoutMillis: 10_000,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
    // For a URL withSessionSettings cannot parse (one with options of its own then wins).
    ...(settings.length > 0 ? { options: settings.map((s) => `-c ${s}`).join(" ") } : {}),
  });
  // An idle client losing its server (db stop, restart) must not crash the process.
  pool.on("error", () => undefined);
  let slotCount: number;
  try {
    slotCount = await withClient(pool, async (client) => {
      await migrate(client);
      // The embedded setup: `sql()` gets the sandbox by default (a team's server: the operator's
      // own `sql.default`, docs/runtime.md).
      const sandbox = !options.url && !process.env.DATABASE_URL ? localSqlUrl(options.cwd) : null;
      if (sandbox) await storeDefaultConnection((text, params) => client.query(text, params), sandbox);
      return (await client.query<{ slot_count: number }>("SELECT slot_count FROM runbook_settings")).rows[0].slot_count;
    });
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw describeConnectError(e, url);
  }
  return { pool, url, slotCount, close: () => pool.end() };
}

const JSON_OID = 114;

/** pg's parsers, except that `json` columns (every stored value) are read by the runtime's codec. */
function typeParser(oid: number, format?: string): unknown {
  if (oid === JSON_OID && format !== "binary") return decodeJson;
  return pg.types.getTypeParser(oid, format as "text");
}

/**
 * The URL with `-c name=value` settings added to its `options` parameter, after any the URL
 * already has (a later `-c` wins). pg lets a URL's `options` replace the `options` given beside
 * it, so they have to travel in the URL together. A string `URL` cannot parse (a bare socket
 * path) is returned as it is.
 */
export function withSessionSettings(url: string, settings: string[]): string {
  if (settings.length === 0) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const existing = u.searchParams.get("options")?.trim();
  u.searchParams.set("options", [existing, ...settings.map((s) => `-c ${s}`)].filter(Boolean).join(" "));
  return u.toString();
}

/** One line naming the server, for a failure to connect; other errors pass through. */
export function describeConnectError(e: unknown, url: string): Error {
  const err = e as NodeJS.ErrnoException & { code?: string };
  const host = hostOf(url);
  const connectCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "ECONNRESET", "EAI_AGAIN", "28P01", "28000", "3D000", "57P03"]);
  if ((err.code && connectCodes.has(err.code)) || /timeout|terminated|connect/i.test(err.message ?? "")) {
    return new DatabaseUnreachable(`cannot reach the database at ${host}: ${err.message || err.code}`);
  }
  return err instanceof Error ? err : new Error(String(e));
}

export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}${u.port ? `:${u.port}` : ""}`;
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}
