// The throw-away database `runbook test` gives `sql()`: an empty database created on a real
// PostgreSQL server before the run when the runbook can reach `sql` (cli/test.ts), else on its
// first use, and dropped when the test ends. A runbook that cannot call `sql` never connects
// (nor starts the embedded server).
//
// The server is `--database URL` (its database part is only used to connect and issue CREATE
// DATABASE), else DATABASE_URL, else the project's embedded one (.runbook/), as for every other
// command. The database is named `runbook_test_<12 hex digits>`, so one left behind by a test
// that was killed is easy to find and drop by hand.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { QueryFn } from "../runtime/builtins/sql.js";
import { databaseUrl, describeConnectError, hostOf } from "../runtime/db/connect.js";

export class ThrowAwayDatabase {
  readonly name = `runbook_test_${randomBytes(6).toString("hex")}`;
  private opened: Promise<{ pool: pg.Pool; serverUrl: string }> | undefined;

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

  /** Was the database created (so there is something to drop)? */
  get used(): boolean {
    return this.opened !== undefined;
  }

  /** Closes the connections and drops the database; a no-op when it was never created. */
  async dispose(): Promise<void> {
    if (!this.opened) return;
    let serverUrl: string;
    try {
      const opened = await this.opened;
      serverUrl = opened.serverUrl;
      await opened.pool.end();
    } catch {
      return; // never created: nothing to drop
    }
    await admin(serverUrl, `DROP DATABASE IF EXISTS ${this.name}`).catch((e: unknown) => {
      throw new Error(`could not drop the throw-away database ${this.name} on ${hostOf(serverUrl)}: ${(e as Error).message}`);
    });
  }

  private async create(): Promise<{ pool: pg.Pool; serverUrl: string }> {
    const serverUrl = this.serverUrl ?? (await databaseUrl());
    try {
      await admin(serverUrl, `CREATE DATABASE ${this.name}`);
    } catch (e) {
      const err = describeConnectError(e, serverUrl);
      throw new Error(`cannot create a throw-away database for sql() on ${hostOf(serverUrl)}: ${err.message}`);
    }
    const url = new URL(serverUrl);
    url.pathname = `/${this.name}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2, connectionTimeoutMillis: 10_000 });
    pool.on("error", () => undefined); // an idle client losing the server must not crash the test
    return { pool, serverUrl };
  }
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(statement);
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
