// A real PostgreSQL for the activities' database tests: a fresh, migrated database on the test
// run's one server (test/setup/postgres.ts, test/setup/db.ts).
import { openDb, type Db } from "../../runtime/db/connect.js";
import type { QueryFn } from "../../runtime/builtins/sql.js";
import { freshDatabaseUrl } from "../setup/db.js";

export interface TestDb {
  url: string;
  db: Db;
  query: QueryFn;
  stop(): Promise<void>;
}

export async function startTestDb(): Promise<TestDb> {
  const url = await freshDatabaseUrl();
  const db = await openDb({ url, max: 4 });
  return { url, db, query: (text, params) => db.pool.query(text, params), stop: () => db.close() };
}
