// Migrations: applied once, in order, under an advisory lock, even when several processes open a
// new database at the same moment; recorded in runbook_migrations.
import { expect, it } from "vitest";
import { openDb } from "../../runtime/db/connect.js";
import { readMigrations } from "../../runtime/db/migrate.js";
import { freshDatabaseUrl } from "../setup/db.js";

it("applies every migration exactly once when three clients open a new database together", async () => {
  const url = await freshDatabaseUrl();
  const dbs = await Promise.all([openDb({ url, max: 1 }), openDb({ url, max: 1 }), openDb({ url, max: 1 })]);
  try {
    const { rows } = await dbs[0].pool.query<{ version: number; name: string }>("SELECT version, name FROM runbook_migrations ORDER BY version");
    expect(rows).toEqual(readMigrations().map((m) => ({ version: m.version, name: m.name })));
    expect(rows.map((r) => r.name).slice(0, 1)).toEqual(["0001_init.sql"]);
    expect(dbs.map((d) => d.slotCount)).toEqual([256, 256, 256]);
  } finally {
    await Promise.all(dbs.map((d) => d.close()));
  }
});

it("gives every column of jobs the statistics target 10, so autovacuum's ANALYZE samples 3,000 rows (migration 0016)", async () => {
  const db = await openDb({ url: await freshDatabaseUrl(), max: 1 });
  try {
    // The sample is 300 rows per unit of the highest target among the columns: one column left
    // at the default (100) would make every ANALYZE of jobs read 30,000 rows again.
    const { rows } = await db.pool.query<{ attname: string; target: number | null }>(
      `SELECT attname, attstattarget::int AS target FROM pg_attribute
       WHERE attrelid = 'jobs'::regclass AND attnum > 0 AND NOT attisdropped AND attstattarget IS DISTINCT FROM 10`,
    );
    expect(rows).toEqual([]);
    const { rows: cols } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'jobs'::regclass AND attnum > 0 AND NOT attisdropped");
    expect(cols[0].n).toBeGreaterThan(30);
  } finally {
    await db.close();
  }
});
