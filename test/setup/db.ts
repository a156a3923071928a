// A fresh database per test file on the run's one server (see test/setup/postgres.ts).
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { openDb, type Db } from "../../runtime/db/connect.js";
import { ensureLocalDatabase, localSqlUrl } from "../../runtime/db/local.js";
import { ensureSqlSandbox } from "../../runtime/db/sql-sandbox.js";

/** The server's superuser URL, starting the shared embedded cluster on first use. */
export async function adminUrl(): Promise<string> {
  return inject("pgAdminUrl") ?? (await ensureLocalDatabase(inject("pgHome")));
}

/** Creates an empty database and returns its URL. */
export async function freshDatabaseUrl(): Promise<string> {
  const admin = await adminUrl();
  const name = `rb_test_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, migrated database opened with the runtime's own connection code. */
export async function freshDb(max = 6): Promise<Db> {
  return openDb({ url: await freshDatabaseUrl(), max });
}

/**
 * The sandbox `sql()` runs in by default (runtime/db/sql-sandbox.ts) on the test server: the
 * embedded setup's own, or made on DATABASE_URL's server (a password fixed per server, so
 * concurrent test files agree on it).
 */
export async function sandboxUrl(): Promise<string> {
  const admin = await adminUrl();
  const home = inject("pgAdminUrl") ? null : inject("pgHome");
  return (home && localSqlUrl(home)) || ensureSqlSandbox(admin, createHash("sha256").update(admin).digest("hex").slice(0, 24));
}

/** A fresh database of the sandbox's role, as that role: one test's own `sql.default`. */
export async function freshSandboxUrl(): Promise<string> {
  const url = new URL(await sandboxUrl());
  const name = `rb_sql_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: await adminUrl() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} OWNER ${url.username}`);
  } finally {
    await client.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}
