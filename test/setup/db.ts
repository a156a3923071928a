// A fresh database per test file on the run's one server (see test/setup/postgres.ts).
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { openDb, type Db } from "../../runtime/db/connect.js";
import { ensureLocalDatabase } from "../../runtime/db/local.js";

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
