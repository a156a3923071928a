// Versioned schema migrations: runtime/migrations/NNNN_name.sql, applied in order, each once, in
// its own transaction, under an advisory lock so concurrent first uses do not race.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "migrations");
/** Any constant works; it only has to be the same in every process. */
const MIGRATION_LOCK = 7_243_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: fs.readFileSync(path.join(dir, f), "utf8") }));
}

/** Applies the migrations not yet recorded in `runbook_migrations`; returns their names. */
export async function migrate(client: pg.ClientBase, migrations = readMigrations()): Promise<string[]> {
  const applied: string[] = [];
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    // Only when missing: a role without CREATE on the schema (a worker on a team's server,
    // docs/runtime.md) is refused even `CREATE TABLE IF NOT EXISTS` of a table that exists.
    const { rows } = await client.query<{ exists: boolean }>("SELECT to_regclass('runbook_migrations') IS NOT NULL AS exists");
    if (!rows[0].exists) {
      await client.query(`CREATE TABLE IF NOT EXISTS runbook_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    }
    const done = new Set((await client.query<{ version: number }>("SELECT version FROM runbook_migrations")).rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO runbook_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.name} failed: ${(e as Error).message}`);
      }
      applied.push(m.name);
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
  }
  return applied;
}
