// The benchmarks' database: a fresh database on DATABASE_URL's server, else on a temporary
// embedded cluster, dropped (and the cluster removed) when the benchmark ends, even on failure.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import pg from "pg";
import { openDb, type Db } from "../runtime/db/connect.js";
import { ensureLocalDatabase, stopLocalDatabase } from "../runtime/db/local.js";

export interface BenchDatabase {
  db: Db;
  /** The fresh database's URL (for worker processes). */
  url: string;
  /** True on the temporary embedded cluster. */
  embedded: boolean;
}

/** Runs `fn` on a fresh, migrated database named `<prefix>_<random>`, opened with a pool of `max`. */
export async function withBenchDatabase(prefix: string, max: number, fn: (bench: BenchDatabase) => Promise<void>): Promise<void> {
  let home: string | null = null;
  let admin = process.env.DATABASE_URL;
  if (!admin) {
    home = fs.mkdtempSync("/var/tmp/runbook-bench-");
    fs.chmodSync(home, 0o755); // the embedded server runs as user postgres
    admin = await ensureLocalDatabase(home);
  }
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    const db = await openDb({ url: url.toString(), max });
    try {
      await fn({ db, url: url.toString(), embedded: home !== null });
    } finally {
      await db.close();
      await c.query(`DROP DATABASE ${name} WITH (FORCE)`).catch(() => undefined);
    }
  } finally {
    await c.end();
    if (home) {
      await stopLocalDatabase(home);
      fs.rmSync(home, { recursive: true, force: true });
    }
  }
}
