// A secret read by a running job never shows in its streams, as the worker stores them and as
// `runbook run` and `runbook job` print them: real CLI processes on a real PostgreSQL.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runbook } from "../runtime/process.js";
import { startTestDb, type TestDb } from "./pg.js";

const SECRET = "hunter2-very-secret";
let t: TestDb;
const project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-secret-"));
let env: Record<string, string>;

beforeAll(async () => {
  t = await startTestDb();
  env = { DATABASE_URL: t.url, RUNBOOK_SECRET_KEY: "an operator passphrase" };
  fs.writeFileSync(
    path.join(project, "leak.runbook"),
    `runbook leak() -> string {
  let pw = asset("db_password")
  log "connecting with \${pw}"
  output { user: "app", password: pw }
  checkpoint "connected"
  warn "still using \${pw}"
  error json_string({ pw: pw })
  return "done as app/\${pw}"
}
`,
  );
  fs.writeFileSync(
    path.join(project, "leak_later.runbook"),
    `runbook leak_later() -> string {
  let pw = asset("db_password")
  sleep 50ms
  return "after the sleep: \${pw}"
}
`,
  );
  fs.writeFileSync(
    path.join(project, "leak_fail.runbook"),
    `runbook leak_fail() {
  let pw = asset("db_password")
  fail "login refused for \${pw}"
}
`,
  );
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(project, { recursive: true, force: true });
});

describe("secrets in a running job", () => {
  it("are masked in every stream record, the result and the error, and in runbook run / runbook job", async () => {
    const set = await runbook(["asset", "set", "db_password", SECRET, "--secret"], { cwd: project, env });
    expect(set).toMatchObject({ code: 0, stdout: "asset db_password set (secret, encrypted)\n" });

    const ran = await runbook(["run", "leak.runbook"], { cwd: project, env });
    expect(ran.code).toBe(0);
    expect(ran.stdout + ran.stderr).not.toContain(SECRET);
    expect(ran.stdout).toContain('{"user":"app","password":"***"}');
    expect(ran.stderr).toContain("connecting with ***");
    const id = /job ([0-9a-f-]{36})/.exec(ran.stdout + ran.stderr)?.[1];
    expect(id).toBeDefined();

    const shown = await runbook(["job", id!], { cwd: project, env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toContain(SECRET);
    expect(shown.stdout).toContain("still using ***");
    expect(shown.stdout).toContain('{"pw":"***"}');

    const streams = await t.query("SELECT * FROM job_streams", []);
    expect(streams.rows.length).toBe(4);
    expect(JSON.stringify(streams.rows)).not.toContain(SECRET);
    const result = await t.query("SELECT result FROM jobs WHERE id = $1", [id]);
    expect(result.rows[0].result).toBe("done as app/***");

    const failed = await runbook(["run", "leak_fail.runbook"], { cwd: project, env });
    expect(failed.code).toBe(1);
    expect(failed.stdout + failed.stderr).not.toContain(SECRET);
    expect(failed.stderr).toContain("login refused for ***");
    const errors = await t.query("SELECT error FROM jobs WHERE runbook = 'leak_fail'", []);
    expect(JSON.stringify(errors.rows)).not.toContain(SECRET);
    // Read before a sleep, returned after it: the run that ends the job never called asset().
    const later = await runbook(["run", "leak_later.runbook"], { cwd: project, env });
    expect(later.code).toBe(0);
    const laterResult = await t.query("SELECT result FROM jobs WHERE runbook = 'leak_later'", []);
    expect(laterResult.rows[0].result).toBe("after the sleep: ***");
    // Its checkpoint at the sleep held pw: sealed, not in clear.
    const laterState = await t.query("SELECT state::text AS state FROM jobs WHERE runbook = 'leak_later'", []);
    expect(laterState.rows[0].state).not.toContain(SECRET);
    expect(JSON.parse(String(laterState.rows[0].state)).sealed).toMatch(/^v1\.scrypt\./);

    const assets = await t.query("SELECT * FROM assets", []);
    expect(JSON.stringify(assets.rows)).not.toContain(SECRET);
  }, 180_000);
});

describe("a secret held across suspension points", () => {
  it("is sealed in the state, reaches exec, a rotation and a child job, and every read and write is audited", async () => {
    const out = path.join(project, "got");
    fs.writeFileSync(
      path.join(project, "rotate.runbook"),
      `runbook rotate(out: string) -> string {
  let pw = asset("db_password")
  let login = { user: "app", dsn: "postgres://app:\${pw}@db/app" }
  if len(sql("select 1 as one")) != 1 { fail "no row" }
  sleep 10ms
  let next = "\${pw}-rotated"
  asset_set("db_password_next", next, secret: true)
  let copy = start child(pw: pw, out: out)
  checkpoint "rotated"
  exec(["sh", "-c", "printf '%s' \\"$PW\\" > \\"$1\\"; printf '%s' \\"$2\\" > \\"$1.argv\\"", "sh", out, login.dsn], env: { PW: next })
  suspend "check \${next}"
  let back = await copy
  return "rotated to \${next} (child: \${back})"
}
`,
    );
    fs.writeFileSync(
      path.join(project, "child.runbook"),
      `runbook child(pw: string, out: string) -> string {
  sleep 10ms
  exec(["sh", "-c", "printf '%s' \\"$1\\" > \\"$2\\"", "sh", pw, "\${out}.child"])
  return pw
}
`,
    );
    expect((await runbook(["asset", "set", "db_password", SECRET, "--secret"], { cwd: project, env })).code).toBe(0);
    // sql() reads its connection asset: a secret, so each call's read is audited with the job.
    expect((await runbook(["asset", "set", "sql.default", t.url, "--secret"], { cwd: project, env })).code).toBe(0);
    const running = runbook(["run", "rotate.runbook", "--param", `out=${out}`], { cwd: project, env, timeoutMs: 120_000 });
    // It suspends holding the secret: its reason masked, its state sealed. An operator resumes it.
    let id: string | undefined;
    for (let i = 0; i < 1200 && !id; i++) {
      const { rows } = await t.query("SELECT id FROM jobs WHERE runbook = 'rotate' AND status = 'suspended'", []);
      id = rows[0]?.id as string | undefined;
      if (!id) await new Promise((r) => setTimeout(r, 100));
    }
    expect(id).toBeDefined();
    const job = await t.query("SELECT state::text AS state FROM jobs WHERE id = $1", [id]);
    expect(job.rows[0].state).not.toContain(SECRET);
    expect(JSON.parse(String(job.rows[0].state)).sealed).toBeTypeOf("string");
    const history = await t.query("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id", [id]);
    expect(history.rows.map((r) => r.reason)).toContain("suspend: check ***");
    expect((await runbook(["resume", id!], { cwd: project, env })).code).toBe(0);
    const ran = await running;
    expect(ran.stdout + ran.stderr).not.toContain(SECRET);
    expect(ran.stderr).not.toMatch(/warning|error|failed/);
    expect(ran.stdout).toBe("");
    const result = await t.query("SELECT status, result FROM jobs WHERE id = $1", [id]);
    expect(result.rows[0]).toEqual({ status: "completed", result: "rotated to *** (child: ***)" });
    // The commands got the secret, whole and interpolated, as env and argv.
    expect(fs.readFileSync(out, "utf8")).toBe(`${SECRET}-rotated`);
    expect(fs.readFileSync(`${out}.argv`, "utf8")).toBe(`postgres://app:${SECRET}@db/app`);
    // The child got it through its sealed first state; its parameters show it masked.
    const child = await t.query("SELECT params, state::text AS state FROM jobs WHERE id = $1", [`${id}/0`]);
    expect(child.rows[0].params).toEqual({ pw: "***", out });
    expect(child.rows[0].state).not.toContain(SECRET);
    expect(fs.readFileSync(`${out}.child`, "utf8")).toBe(SECRET);
    // The rotated secret is stored sealed and opens to the new value.
    const next = await t.query("SELECT secret, value, sealed FROM assets WHERE name = 'db_password_next'", []);
    expect(next.rows[0]).toMatchObject({ secret: true, value: null });
    const { getAsset } = await import("../../runtime/builtins/asset.js");
    expect((await getAsset(t.query, "db_password_next", env.RUNBOOK_SECRET_KEY)).value).toBe(`${SECRET}-rotated`);
    // Nothing anywhere in the database holds either value in clear.
    for (const table of ["jobs", "job_streams", "job_history", "assets", "signals", "asset_audit"]) {
      const rows = await t.query(`SELECT t::text AS row FROM ${table} t`, []);
      expect(rows.rows.map((r) => r.row).join("\n"), table).not.toContain(SECRET);
    }
    // Every read and write of a secret, with the job and worker that made it.
    const audit = await t.query("SELECT asset, action, job_id, worker, actor FROM asset_audit WHERE job_id = $1 ORDER BY id", [id]);
    expect(audit.rows.map((r) => [r.asset, r.action])).toEqual([
      ["db_password", "read"],
      ["sql.default", "read"],
      ["db_password_next", "write"],
    ]);
    expect(audit.rows.every((r) => r.actor === "job" && typeof r.worker === "string" && r.worker.length > 0)).toBe(true);
    const byCommand = await t.query("SELECT actor FROM asset_audit WHERE job_id IS NULL AND asset = 'db_password' AND action = 'write'", []);
    expect(byCommand.rows[0]?.actor).toMatch(/@.*: asset set$/);
  }, 180_000);
});
