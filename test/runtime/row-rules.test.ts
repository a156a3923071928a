// The row rules of `jobs` (migrations 0014, 0015) live in a PL/pgSQL function whose trigger fires
// only for statements that set a column the function reads. The two lists must agree: a rule on
// a column missing from the trigger's UPDATE OF list would never be checked when only that column
// changes. This reads both from the database, so a new rule added without its column fails here.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { freshDb } from "../setup/db.js";

let db: Db;
beforeAll(async () => {
  db = await freshDb(1);
});
afterAll(async () => {
  await db?.close();
});

it("the row rules' trigger fires for every column the rules read", async () => {
  const { rows } = await db.pool.query<{ src: string; def: string }>(
    `SELECT p.prosrc AS src, pg_get_triggerdef(t.oid) AS def
     FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE t.tgrelid = 'jobs'::regclass AND t.tgname = 'jobs_zz_row_rules'`,
  );
  expect(rows).toHaveLength(1);
  // Columns the rules read; NEW.id only names the row in the error's detail.
  const read = new Set([...rows[0].src.matchAll(/NEW\.(\w+)/g)].map((m) => m[1]).filter((c) => c !== "id"));
  const of = rows[0].def.match(/UPDATE OF (.*?) ON /)?.[1].split(",").map((c) => c.trim());
  expect(of).toBeDefined();
  expect([...read].filter((c) => !of!.includes(c))).toEqual([]);
  expect(rows[0].def).toMatch(/BEFORE INSERT OR UPDATE OF/);
  expect(read.size).toBeGreaterThan(10);
});
