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

/** A benchmark's PostgreSQL server, on which it makes as many fresh databases as it needs. */
export interface BenchServer {
  /** Creates an empty database `<prefix>_<random>` and returns its URL. */
  createDatabase(prefix: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  embedded: boolean;
}

/** Runs `fn` with DATABASE_URL's server, else a temporary embedded cluster removed afterwards. */
export async function withBenchServer(fn: (server: BenchServer) => Promise<void>): Promise<void> {
  let home: string | null = null;
  let admin = process.env.DATABASE_URL;
  if (!admin) {
    home = fs.mkdtempSync("/var/tmp/runbook-bench-");
    fs.chmodSync(home, 0o755); // the embedded server runs as user postgres
    admin = await ensureLocalDatabase(home);
  }
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  const made: string[] = [];
  try {
    await fn({
      embedded: home !== null,
      async createDatabase(prefix) {
        const name = `${prefix}_${randomBytes(4).toString("hex")}`;
        await c.query(`CREATE DATABASE ${name}`);
        made.push(name);
        const url = new URL(admin);
        url.pathname = `/${name}`;
        return url.toString();
      },
      async dropDatabase(url) {
        const name = new URL(url).pathname.slice(1);
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    });
  } finally {
    for (const name of made) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await c.end();
    if (home) {
      await stopLocalDatabase(home);
      fs.rmSync(home, { recursive: true, force: true });
    }
  }
}

/** Runs `fn` on a fresh, migrated database named `<prefix>_<random>`, opened with a pool of `max`. */
export async function withBenchDatabase(prefix: string, max: number, fn: (bench: BenchDatabase) => Promise<void>): Promise<void> {
  await withBenchServer(async (server) => {
    const url = await server.createDatabase(prefix);
    const db = await openDb({ url, max });
    try {
      await fn({ db, url, embedded: server.embedded });
    } finally {
      await db.close();
    }
  });
}
