// `sql()` from a running job never runs on the runtime's database nor as a superuser: on the
// default connection (the embedded setup's sandbox) `jobs` and `assets` are out of reach and
// the role is not a superuser; a named connection goes where its asset says. Real `runbook run`
// processes on the test run's embedded PostgreSQL.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeDefaultConnection } from "../../runtime/db/sql-sandbox.js";
import { runbook } from "../runtime/process.js";
import { adminUrl, freshDatabaseUrl, sandboxUrl } from "../setup/db.js";
import { startTestDb, type TestDb } from "./pg.js";

let t: TestDb;
let env: Record<string, string>;
let reportingUrl: string;
const project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-sqlpriv-"));

beforeAll(async () => {
  t = await startTestDb();
  env = { DATABASE_URL: t.url, RUNBOOK_SECRET_KEY: "a passphrase for the sql test" };
  await storeDefaultConnection(t.query, await sandboxUrl());
  reportingUrl = await freshDatabaseUrl();
  const reporting = new pg.Client({ connectionString: reportingUrl });
  await reporting.connect();
  await reporting.query("CREATE TABLE sales (region text, amount int); INSERT INTO sales VALUES ('eu', 3), ('us', 4)");
  await reporting.end();
  fs.writeFileSync(
    path.join(project, "probe.runbook"),
    `runbook probe(query: string) -> any {
  try {
    return sql(query)
  } catch err {
    return err.message
  }
}
`,
  );
  fs.writeFileSync(
    path.join(project, "report.runbook"),
    `runbook report() -> any {
  let rows = sql("SELECT region, amount FROM sales WHERE amount > $1 ORDER BY region", [0], connection: "reporting")
  checkpoint "read"
  return rows
}
`,
  );
  expect(await runbook(["publish", "."], { cwd: project, env })).toMatchObject({ code: 0 });
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(project, { recursive: true, force: true });
});

/** Runs probe(query) as a real job with `runbook run` and returns its result. */
async function probe(query: string): Promise<unknown> {
  const ran = await runbook(["run", "probe", "--param", `query=${query}`], { cwd: project, env });
  expect(ran.stderr).not.toMatch(/error|failed to/i);
  expect(ran.code).toBe(0);
  const id = /job ([0-9a-f-]{36})/.exec(ran.stdout + ran.stderr)![1];
  const { rows } = await t.query("SELECT status, result FROM jobs WHERE id = $1", [id]);
  expect(rows[0].status).toBe("completed");
  return rows[0].result;
}

describe("sql() on the default connection", () => {
  it("cannot read the runtime's tables", async () => {
    expect(await probe("select * from jobs")).toBe('sql failed on connection default: relation "jobs" does not exist (SQLSTATE 42P01)');
    expect(await probe("select * from assets")).toBe('sql failed on connection default: relation "assets" does not exist (SQLSTATE 42P01)');
    expect(await probe("delete from job_history")).toMatch(/^sql failed on connection default: relation "job_history" does not exist/);
  });

  it("runs as a role that is not a superuser, in a database of its own", async () => {
    expect(await probe("select current_user as name, rolsuper, current_database() as db from pg_roles where rolname = current_user")).toEqual([
      { name: "runbook_sql", rolsuper: false, db: "runbook_sql" },
    ]);
    expect(await probe("copy (select 1) to program 'true'")).toMatch(/^sql failed on connection default: permission denied.*\(SQLSTATE 42501\)/);
    expect(await probe("create role intruder superuser")).toMatch(/^sql failed on connection default: permission denied/);
    // Its own tables work (the WriteLog example creates one).
    const table = `t_${randomBytes(4).toString("hex")}`;
    expect(await probe(`create table ${table} (x int)`)).toEqual([]);
    expect(await probe(`select count(*) as n from ${table}`)).toEqual([{ n: 0 }]);
  });

  it("is kept out of the runtime's database even with the role's password", async () => {
    // The embedded runtime's database (the admin URL's) is closed to it.
    const admin = new URL(await sandboxUrl());
    admin.pathname = new URL(await adminUrl()).pathname;
    await expect(connectAndRead(admin.toString())).rejects.toThrow(/permission denied for database/);
    // A test database lets PUBLIC connect; its tables are still not readable.
    const url = new URL(await sandboxUrl());
    url.pathname = new URL(t.url).pathname;
    await expect(connectAndRead(url.toString())).rejects.toThrow(/permission denied for table jobs/);
  });
});

async function connectAndRead(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query("SELECT * FROM jobs");
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe("sql() on a named connection", () => {
  it("runs where the connection asset points, and says so when it is not set", async () => {
    const missing = await runbook(["run", "report"], { cwd: project, env });
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toContain('sql connection "reporting" is not set up: asset "sql.reporting" is not set');

    expect(await runbook(["asset", "set", "sql.reporting", reportingUrl, "--secret"], { cwd: project, env })).toMatchObject({ code: 0 });
    const ran = await runbook(["run", "report"], { cwd: project, env });
    expect(ran.code).toBe(0);
    const id = /job ([0-9a-f-]{36})/.exec(ran.stdout + ran.stderr)![1];
    const { rows } = await t.query("SELECT result FROM jobs WHERE id = $1", [id]);
    expect(rows[0].result).toEqual([
      { region: "eu", amount: 3 },
      { region: "us", amount: 4 },
    ]);
  });
});
