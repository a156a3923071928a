// The throw-away database `runbook test` gives `sql()`: an empty database created on a real
// PostgreSQL server before the run when the runbook can reach `sql` (cli/test.ts), else on its
// first use, and dropped when the test ends. A runbook that cannot call `sql` never connects
// (nor starts the embedded server).
//
// The server is `--database URL` (its database part is only used to connect and issue CREATE
// DATABASE), else DATABASE_URL, else the project's embedded one (.runbook/), as for every other
// command. The database and the role it runs as are named `runbook_test_<12 hex digits>`, so
// ones left behind by a test that was killed are easy to find and drop by hand.
//
// Each connection a runbook names (`sql(query, params, connection: "reporting")`) gets a database
// of its own (ThrowAwayDatabases, a SqlConnectionSource like the worker's), so tables of one are
// not seen through another, as in production; the connection assets (`sql.NAME`) are never read.
//
// Like production's `sql()`, the runbook's statements run as a role that is not a superuser (it
// owns the database, nothing more), so a statement that needs more rights fails here as it would
// there. A server that does not let the URL's user create roles gets the database alone, used as
// that user.
import { randomBytes } from "node:crypto";
import pg from "../runtime/db/pg.js";
import type { Json } from "../runtime/abi.js";
import type { QueryFn } from "../runtime/builtins/sql.js";
import { DEFAULT_CONNECTION, type SqlConnectionSource } from "../runtime/builtins/sql-connections.js";
import { databaseUrl, describeConnectError, hostOf } from "../runtime/db/connect.js";

/** One throw-away database per connection name, on one server. */
export class ThrowAwayDatabases implements SqlConnectionSource {
  private readonly byConnection = new Map<string, ThrowAwayDatabase>();

  /** `serverUrl`: the --database flag, or undefined for DATABASE_URL / the embedded server. */
  constructor(private readonly serverUrl?: string) {}

  /** The database of `connection` (not created until used). */
  for(connection: string): ThrowAwayDatabase {
    let db = this.byConnection.get(connection);
    if (!db) this.byConnection.set(connection, (db = new ThrowAwayDatabase(this.serverUrl)));
    return db;
  }

  /** The query function of connection `name` (undefined: the default), its database created. */
  async connection(name: Json | undefined): Promise<QueryFn> {
    const conn = name ?? DEFAULT_CONNECTION;
    if (typeof conn !== "string") throw new Error(`sql connection must be a name (a string), got ${JSON.stringify(conn)}`);
    const db = this.for(conn);
    await db.ready();
    return db.query;
  }

  /** Drops every database created; the first failure, if any, after trying them all. */
  close(): Promise<void> {
    return this.dispose();
  }

  async dispose(): Promise<void> {
    const results = await Promise.allSettled([...this.byConnection.values()].map((db) => db.dispose()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

interface Opened {
  pool: pg.Pool;
  serverUrl: string;
  /** The role the statements run as, when the test could create one. */
  role: string | null;
}

export class ThrowAwayDatabase {
  readonly name = `runbook_test_${randomBytes(6).toString("hex")}`;
  private opened: Promise<Opened> | undefined;
  private disposed: Promise<void> | undefined;

  /** `serverUrl`: the --database flag, or undefined for DATABASE_URL / the embedded server. */
  constructor(private readonly serverUrl?: string) {}

  /** Creates the database (once); fails with one line when the server refuses. */
  async ready(): Promise<void> {
    this.opened ??= this.create();
    await this.opened;
  }

  /** Runs one statement in the throw-away database, creating it on first use. */
  readonly query: QueryFn = async (text, params) => {
    this.opened ??= this.create();
    const { pool } = await this.opened;
    return pool.query(text, params);
  };

  /**
   * Closes the connections and drops the database and its role; a no-op when never created.
   * Idempotent: an interrupted test and the normal end may both call it.
   */
  dispose(): Promise<void> {
    this.disposed ??= this.drop();
    return this.disposed;
  }

  private async drop(): Promise<void> {
    if (!this.opened) return;
    let opened: Opened;
    try {
      opened = await this.opened;
    } catch {
      return; // never created: nothing to drop
    }
    await opened.pool.end();
    const drops = [`DROP DATABASE IF EXISTS ${this.name}`, ...(opened.role ? [`DROP ROLE IF EXISTS ${opened.role}`] : [])];
    await admin(opened.serverUrl, drops).catch((e: unknown) => {
      throw new Error(`could not drop the throw-away database ${this.name} on ${hostOf(opened.serverUrl)}: ${(e as Error).message}`);
    });
  }

  private async create(): Promise<Opened> {
    const serverUrl = this.serverUrl ?? (await databaseUrl());
    const password = randomBytes(18).toString("base64url");
    let role: string | null = this.name;
    try {
      try {
        await admin(serverUrl, [
          `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${password}'`,
          `CREATE DATABASE ${this.name} OWNER ${role}`,
        ]);
      } catch (e) {
        if ((e as { code?: string }).code !== "42501") throw e; // insufficient_privilege: no role of its own
        await admin(serverUrl, [`DROP ROLE IF EXISTS ${role}`]).catch(() => undefined);
        role = null;
        await admin(serverUrl, [`CREATE DATABASE ${this.name}`]);
      }
    } catch (e) {
      const err = describeConnectError(e, serverUrl);
      throw new Error(`cannot create a throw-away database for sql() on ${hostOf(serverUrl)}: ${err.message}`);
    }
    const url = new URL(serverUrl);
    url.pathname = `/${this.name}`;
    if (role) {
      url.username = role;
      url.password = password;
    }
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2, connectionTimeoutMillis: 10_000 });
    pool.on("error", () => undefined); // an idle client losing the server must not crash the test
    return { pool, serverUrl, role };
  }
}

/** Runs `statements` one by one in a session of the server's URL (its user and database). */
async function admin(serverUrl: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A --database value: a postgres:// or postgresql:// URL, or a one-line reason it is not. */
export function checkServerUrl(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return "--database is not a URL (write it like postgres://user:password@host:5432/postgres)";
  }
  // The URL may hold a password: the messages never repeat it.
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") return `--database must be a postgres:// URL, not ${u.protocol.slice(0, -1)}:`;
  return null;
}
