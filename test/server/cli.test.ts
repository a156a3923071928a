// `runbook token`, `runbook webhook` and `runbook serve` as a user runs them, in real processes:
// a token printed once and usable against a served API, a webhook URL that starts a job, and
// bad input refused in one line.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runbook } from "../runtime/process.js";
import { freshDatabaseUrl } from "../setup/db.js";
import { RUNBOOKS } from "./support.js";

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-serve-cli-"));
  fs.mkdirSync(path.join(dir, "rb"));
  fs.writeFileSync(path.join(dir, "rb", "deploy.runbook"), RUNBOOKS["deploy.runbook"]);
  env = { DATABASE_URL: await freshDatabaseUrl() };
  expect((await runbook(["publish", "rb"], { cwd: dir, env })).code).toBe(0);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("runbook token, webhook and serve", () => {
  it("makes tokens and webhooks, serves the API with them, and refuses bad input in one line", async () => {
    const made = await runbook(["token", "create", "alice", "--role", "operator"], { cwd: dir, env });
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^rbt_[A-Za-z0-9_-]{43}\n$/);
    expect(made.stderr).toBe("runbook: token alice (operator) made: it is shown this once, keep it somewhere safe\n");
    const token = made.stdout.trim();
    const dup = await runbook(["token", "create", "alice", "--role", "viewer"], { cwd: dir, env });
    expect(dup).toMatchObject({ code: 1, stderr: "runbook: a token named alice exists already (revoke it first, or pick another name)\n" });
    const badRole = await runbook(["token", "create", "bob", "--role", "root"], { cwd: dir, env });
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/--role.*root.*invalid/i);
    const list = await runbook(["token", "list", "--json"], { cwd: dir, env });
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: "alice", role: "operator", last_used_at: null })]);

    const hook = await runbook(["webhook", "create", "ship", "--runbook", "deploy", "--param", "region=us", "--expires", "30d", "--url", "http://127.0.0.1:1"], { cwd: dir, env });
    expect(hook.code).toBe(0);
    expect(hook.stdout).toMatch(/^http:\/\/127\.0\.0\.1:1\/hooks\/rbw_[A-Za-z0-9_-]{43}\n$/);
    const secretPath = new URL(hook.stdout.trim()).pathname;
    expect((await runbook(["webhook", "create", "x", "--runbook", "deploy", "--expires", "soon"], { cwd: dir, env })).stderr).toBe("runbook: --expires soon is not a duration (write it like 30d or 12h)\n");
    expect((await runbook(["webhook", "create", "x", "--runbook", "nope"], { cwd: dir, env })).stderr).toBe("runbook: no published runbook nope\n");
    const hooks = await runbook(["webhook", "list"], { cwd: dir, env });
    expect(hooks.stdout).toMatch(/^ship\s+deploy\s+\{"region":"us"\}\s+in 29d\s+never$/m);

    const server = spawn(process.execPath, [BIN, "serve", "--port", "0"], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        server.stdout.on("data", (d) => {
          out += d;
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
          if (m) resolve(m[1]);
        });
        server.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
      });
      const started = await fetch(url + secretPath, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ service: "web" }) });
      expect(started.status).toBe(201);
      const { id } = (await started.json()) as { id: string };
      const job = await fetch(`${url}/api/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await job.json()) as { job: { params: unknown } }).job.params).toEqual({ region: "us", service: "web" });
      expect((await fetch(`${url}/api/jobs`)).status).toBe(401);
      const revoked = await runbook(["token", "revoke", "alice"], { cwd: dir, env });
      expect(revoked.stdout).toBe("token alice revoked\n");
      expect((await fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      expect((await runbook(["token", "revoke", "alice"], { cwd: dir, env })).stderr).toBe("runbook: no token alice\n");
      expect((await runbook(["webhook", "revoke", "ship"], { cwd: dir, env })).stdout).toBe("webhook ship revoked\n");
    } finally {
      server.kill("SIGTERM");
      expect(await new Promise((resolve) => server.once("exit", resolve))).toBe(0);
    }
    const badPort = await runbook(["serve", "--port", "http"], { cwd: dir, env });
    expect(badPort).toMatchObject({ code: 2, stderr: "runbook: --port http is not a port number (0 to 65535)\n" });
  });
});
