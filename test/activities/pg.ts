// A real PostgreSQL for the activities' database tests: a fresh database on the embedded
// cluster of a temporary project folder (runtime/db), migrated like the runtime's own.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { openDb, type Db } from "../../runtime/db/connect.js";
import { ensureLocalDatabase, localStatus, stopLocalDatabase } from "../../runtime/db/local.js";
import type { QueryFn } from "../../runtime/builtins/sql.js";

export interface TestDb {
  url: string;
  db: Db;
  query: QueryFn;
  stop(): Promise<void>;
}

export async function startTestDb(): Promise<TestDb> {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-act-pg-"));
  const clusterUrl = await ensureLocalDatabase(project);
  const name = `act_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(clusterUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = await openDb({ url });
  return {
    url,
    db,
    query: (text, params) => db.pool.query(text, params),
    async stop() {
      await db.close();
      const dataDir = localStatus(project).dataDir;
      await stopLocalDatabase(project);
      fs.rmSync(project, { recursive: true, force: true });
      if (dataDir && !dataDir.startsWith(project)) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
