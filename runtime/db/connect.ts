// Opening the runtime's database: DATABASE_URL when set, else this folder's embedded cluster;
// migrations applied once per process; an unreachable server reported as one line naming its
// host, never a stack trace. Every new connection to the embedded cluster looks up where it
// listens now: `runbook db stop` and a restart may move it to another port (its old one taken),
// and a long-running worker must follow it there.
import pg from "./pg.js";
import { decodeJson } from "../json-text.js";
import { ensureLocalDatabase, localSqlUrl, localStatus } from "./local.js";
import { migrate } from "./migrate.js";
import { isConnectionError } from "./outage.js";
import { storeDefaultConnection } from "./sql-sandbox.js";
import { withClient } from "./tx.js";

export interface Db {
  pool: pg.Pool;
  /** The URL the database was opened at. */
  url: string;
  /** Settings fixed per database. */
  slotCount: number;
  /**
   * Where the database is now: a given URL (DATABASE_URL) stays as it is; the embedded cluster
   * is looked up again (its running server's port), falling back to the last one known while
   * it is not running.
   */
  currentUrl(): string;
  /** Settings for a connection of its own beside the pool (LISTEN), to where the database is now. */
  clientConfig(): pg.ClientConfig;
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
  /**
   * How long opening one connection may take (default 10 s). Something else listening on the
   * database's old port may accept a connection and never answer; a worker passes less than its
   * lease so its heartbeat is not held up past the lease by one such attempt.
   */
  connectTimeoutMs?: number;
}

export async function openDb(options: OpenOptions = {}): Promise<Db> {
  const cwd = options.cwd ?? process.cwd();
  const embedded = options.url === undefined && !process.env.DATABASE_URL;
  const url = options.url ?? (await databaseUrl(cwd));
  let known = url;
  const currentUrl = embedded ? () => (known = localStatus(cwd).url ?? known) : () => url;
  const settings = options.idleInTransactionMs ? [`idle_in_transaction_session_timeout=${Math.round(options.idleInTransactionMs)}`] : [];
  const connectionTimeoutMillis = options.connectTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: withSessionSettings(url, settings),
    max: options.max ?? 4,
    connectionTimeoutMillis,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
    // For a URL withSessionSettings cannot parse (one with options of its own then wins).
    ...(settings.length > 0 ? { options: settings.map((s) => `-c ${s}`).join(" ") } : {}),
    // The pool makes a new client for each new connection (the first ones, and each one that
    // replaces a connection lost with its server): each looks up where the cluster is now.
    ...(embedded ? { Client: clientAt(() => withSessionSettings(currentUrl(), settings)) } : {}),
  });
  // An idle client losing its server (db stop, restart) must not crash the process.
  pool.on("error", () => undefined);
  let slotCount: number;
  try {
    slotCount = await withClient(pool, async (client) => {
      await migrate(client);
      // The embedded setup: `sql()` gets the sandbox by default (a team's server: the operator's
      // own `sql.default`, docs/runtime.md).
      // Stored again when the cluster came back on another port (storeDefaultConnection).
      const sandbox = embedded ? localSqlUrl(cwd) : null;
      if (sandbox) await storeDefaultConnection((text, params) => client.query(text, params), sandbox);
      return (await client.query<{ slot_count: number }>("SELECT slot_count FROM runbook_settings")).rows[0].slot_count;
    });
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw describeConnectError(e, url);
  }
  return {
    pool,
    url,
    slotCount,
    currentUrl,
    clientConfig: () => ({ connectionString: currentUrl(), connectionTimeoutMillis }),
    close: () => pool.end(),
  };
}

/** A pg Client class whose every instance connects where `connectionString()` says when it is made. */
function clientAt(connectionString: () => string): new () => pg.Client {
  return class extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionString: connectionString() });
    }
  };
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
  // Besides an unreachable server: refused credentials, or no such database.
  const refused = new Set(["28P01", "28000", "3D000"]);
  if (isConnectionError(err) || (err.code && refused.has(err.code)) || /timeout|terminated|connect/i.test(err.message ?? "")) {
    return new DatabaseUnreachable(`cannot reach the database at ${hostOf(url)}: ${err.message || err.code}`);
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
