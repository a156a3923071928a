// docs/runtime.md, "Least privilege on a team's own server": its statements, as written there
// (role and database names made unique), on the test server. The owner runs the migrations;
// `runbook publish`, `runbook run` (a worker) and a signal run as the worker role, through
// sleep, start/await, wait, assets and sql(); the worker cannot change the schema, and sql()'s
// role cannot reach the runtime's database.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../runtime/db/connect.js";
import { adminUrl } from "../setup/db.js";
import { waitFor } from "../fault/harness.js";
import { BIN, ROOT, runbook } from "./process.js";

const tag = randomBytes(4).toString("hex");
const names: Record<string, string> = {
  runbook_owner: `rb_owner_${tag}`,
  runbook_worker: `rb_worker_${tag}`,
  runbook_sql: `rb_sql_${tag}`,
  runbook: `rb_runtime_${tag}`,
};
const rename = (sql: string) => sql.replace(/\b(runbook_owner|runbook_worker|runbook_sql|runbook)\b/g, (n) => names[n]);

/** The ```sql blocks of the section, in order. */
function documentedGrants(): string[] {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "runtime.md"), "utf8");
  const section = doc.split("## Least privilege on a team's own server")[1].split("\n## ")[0];
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function urlAs(base: string, role: string, password: string, database: string): string {
  const u = new URL(base);
  u.username = role;
  u.password = password;
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs each statement on its own, as psql does (CREATE DATABASE refuses a transaction). */
async function run(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const statement of sql.split(/;\s*\n/).filter((x) => x.trim())) await c.query(statement);
  } finally {
    await c.end();
  }
}

let admin: string;
let owner: string;
let worker: string;
let sqlRole: string;
const project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-grants-"));

beforeAll(async () => {
  admin = await adminUrl();
  const [asSuperuser, asOwner] = documentedGrants();
  expect(asSuperuser).toContain("CREATE ROLE runbook_worker");
  await run(admin, rename(asSuperuser));
  owner = urlAs(admin, names.runbook_owner, "owner-password", names.runbook);
  worker = urlAs(admin, names.runbook_worker, "worker-password", names.runbook);
  sqlRole = urlAs(admin, names.runbook_sql, "sql-password", names.runbook_sql);
  await run(owner, rename(asOwner));
  // Migrations, as the owner.
  await (await openDb({ url: owner, max: 1 })).close();
  fs.writeFileSync(path.join(project, "child.runbook"), "runbook child(n: number) -> number {\n  sleep 10ms\n  return n * 2\n}\n");
  fs.writeFileSync(
    path.join(project, "parent.runbook"),
    `runbook parent() -> string {
  let region = asset("region")
  let j = start child(n: 21)
  let r = await j
  let go = wait "go"
  sql("CREATE TABLE IF NOT EXISTS notes (note text)")
  sql("INSERT INTO notes VALUES ($1)", ["\${region} \${r} \${go}"])
  let rows = sql("SELECT note, current_user AS who FROM notes")
  return "\${rows[0].note} as \${rows[0].who}"
}
`,
  );
});
afterAll(async () => {
  fs.rmSync(project, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    for (const db of [names.runbook, names.runbook_sql]) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    for (const role of [names.runbook_owner, names.runbook_worker, names.runbook_sql]) await c.query(`DROP ROLE IF EXISTS ${role}`);
  } finally {
    await c.end();
  }
});

describe("the documented grants", () => {
  it("let a worker role run jobs end to end", async () => {
    const env = { DATABASE_URL: worker, RUNBOOK_SECRET_KEY: "grants test key" };
    const cli = (args: string[]) => runbook(args, { cwd: project, env });
    const set = await cli(["asset", "set", "region", "eu-west-1"]);
    expect(set, set.stderr).toMatchObject({ code: 0 });
    const expectOk = (r: { code: number; stderr: string }) => expect(r.code, r.stderr).toBe(0);
    expectOk(await cli(["asset", "set", "sql.default", sqlRole, "--secret"]));
    const published = await cli(["publish", "."]);
    expect(published, published.stderr).toMatchObject({ code: 0 });
    const id = `grants-${tag}`;
    expectOk(await cli(["start", "parent", "--id", id]));
    expectOk(await cli(["signal", id, "go", '"now"']));
    const w = spawn(process.execPath, [BIN, "worker", "--name", `w-${tag}`], { cwd: project, env: { ...process.env, ...env, RUNBOOK_POLL_MS: "200" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    w.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => w.once("exit", (code) => r(code)));
    try {
      const status = async () => JSON.parse((await cli(["job", id, "--json"])).stdout).job.status as string;
      await waitFor("the job to end", async () => ["completed", "failed"].includes(await status()) || (w.exitCode !== null && Promise.reject(new Error(stderr))), 60_000);
    } finally {
      w.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    const shown = await cli(["job", id, "--json"]);
    const job = JSON.parse(shown.stdout).job;
    expect(job.status, shown.stdout).toBe("completed");
    expect(job.result).toBe(`eu-west-1 42 now as ${names.runbook_sql}`);
  });

  it("keep the worker out of the schema and sql()'s role out of the runtime's database", async () => {
    await expect(run(worker, "DROP TABLE jobs")).rejects.toThrow(/must be owner of table jobs/);
    await expect(run(worker, "CREATE TABLE intruder (x int)")).rejects.toThrow(/permission denied for schema public/);
    await expect(run(urlAs(admin, names.runbook_sql, "sql-password", names.runbook), "SELECT 1")).rejects.toThrow(/permission denied for database/);
    const c = new pg.Client({ connectionString: sqlRole });
    await c.connect();
    try {
      const { rows } = await c.query("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user");
      expect(rows).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false }]);
    } finally {
      await c.end();
    }
  });
});
