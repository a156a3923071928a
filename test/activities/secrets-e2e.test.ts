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

    const assets = await t.query("SELECT * FROM assets", []);
    expect(JSON.stringify(assets.rows)).not.toContain(SECRET);
  });
});
