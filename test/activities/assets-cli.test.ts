// `runbook asset list|get|delete` as an operator runs them (real processes, a real database):
// list shows names, kinds and times but never a value; get prints a variable, and a secret only
// with --reveal (and the key); delete removes; unknown names are one clear line.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runbook, type Ran } from "../runtime/process.js";
import { freshDatabaseUrl } from "../setup/db.js";

const KEY = "correct horse battery staple";
const SECRET = "pa55-w0rd-never-shown";
let env: Record<string, string>;

beforeAll(async () => {
  env = { DATABASE_URL: await freshDatabaseUrl(), RUNBOOK_SECRET_KEY: KEY };
});

const asset = (args: string[], extra: Record<string, string> = {}): Promise<Ran> => runbook(["asset", ...args], { env: { ...env, ...extra } });

async function ok(args: string[]): Promise<string> {
  const r = await asset(args);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

// Each command is a process that loads the CLI: on a loaded 2-core machine one takes seconds.
describe("runbook asset list, get, delete", { timeout: 240_000 }, () => {
  it("lists names, kinds and times, never a secret's value", async () => {
    expect(await ok(["list"])).toBe("no assets (set one with: runbook asset set NAME VALUE)\n");
    expect(JSON.parse(await ok(["list", "--json"]))).toEqual([]);
    await ok(["set", "region", "eu-west-1"]);
    await ok(["set", "targets", '["web1", "web2"]']);
    await ok(["set", "db_password", SECRET, "--secret"]);

    const text = await ok(["list"]);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+UPDATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ["db_password", "secret"],
      ["region", "variable"],
      ["targets", "variable"],
    ]);
    const json = JSON.parse(await ok(["list", "--json"])) as { name: string; kind: string; updated_at: string }[];
    expect(json.map((a) => [a.name, a.kind])).toEqual([
      ["db_password", "secret"],
      ["region", "variable"],
      ["targets", "variable"],
    ]);
    for (const a of json) {
      expect(Object.keys(a).sort()).toEqual(["kind", "name", "updated_at"]);
      expect(Date.parse(a.updated_at)).toBeGreaterThan(Date.now() - 600_000);
    }
    // Not the value, and not the sealed envelope either.
    expect(text + JSON.stringify(json)).not.toMatch(/eu-west-1|web1|pa55|v1\.scrypt/);
  });

  it("gets a variable; a secret only with --reveal and the key", async () => {
    expect(await ok(["get", "region"])).toBe("eu-west-1\n");
    expect(await ok(["get", "targets"])).toBe('[\n  "web1",\n  "web2"\n]\n');
    const got = JSON.parse(await ok(["get", "targets", "--json"]));
    expect(got).toMatchObject({ name: "targets", kind: "variable", value: ["web1", "web2"] });

    for (const flags of [[], ["--json"]]) {
      const hidden = await asset(["get", "db_password", ...flags]);
      expect(hidden).toEqual({ code: 1, stdout: "", stderr: "runbook: asset db_password is a secret: add --reveal to print its value (it needs RUNBOOK_SECRET_KEY)\n" });
    }
    expect(await ok(["get", "db_password", "--reveal"])).toBe(`${SECRET}\n`);
    expect(JSON.parse(await ok(["get", "db_password", "--reveal", "--json"]))).toMatchObject({ name: "db_password", kind: "secret", value: SECRET });
  });

  it("--reveal without the key, or with another key, is one line", async () => {
    const noKey = await asset(["get", "db_password", "--reveal"], { RUNBOOK_SECRET_KEY: "" });
    expect(noKey).toMatchObject({ code: 1, stdout: "" });
    expect(noKey.stderr).toBe("runbook: RUNBOOK_SECRET_KEY is not set: secrets need a key (32 bytes in base64, or a passphrase)\n");
    const wrongKey = await asset(["get", "db_password", "--reveal"], { RUNBOOK_SECRET_KEY: "another passphrase" });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toBe("runbook: cannot open secret asset db_password: wrong RUNBOOK_SECRET_KEY, or the stored value was altered\n");
  });

  it("unknown and invalid names are one clear line", async () => {
    expect(await asset(["get", "regoin"])).toEqual({ code: 1, stdout: "", stderr: 'runbook: asset "regoin" is not set (did you mean region?)\n' });
    expect(await asset(["delete", "nothing_like_it"])).toEqual({ code: 1, stdout: "", stderr: 'runbook: asset "nothing_like_it" is not set\n' });
    const bad = await asset(["get", "9lives"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('runbook: asset name "9lives" is not valid: use letters, digits, _ . - (starting with a letter or _)\n');
  });

  it("deletes variables and secrets (no key needed); a deleted name is unknown", async () => {
    expect(await ok(["delete", "region"])).toBe("asset region deleted (variable)\n");
    expect(await asset(["delete", "db_password"], { RUNBOOK_SECRET_KEY: "" })).toEqual({ code: 0, stdout: "asset db_password deleted (secret)\n", stderr: "" });
    expect(await asset(["get", "region"])).toEqual({ code: 1, stdout: "", stderr: 'runbook: asset "region" is not set\n' });
    expect(await asset(["delete", "region"])).toMatchObject({ code: 1, stderr: 'runbook: asset "region" is not set\n' });
    expect(JSON.parse(await ok(["list", "--json"])).map((a: { name: string }) => a.name)).toEqual(["targets"]);
    // The secret's write, its revealed reads and its deletion are in the audit trail, by command.
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT action, job_id, actor FROM asset_audit WHERE asset = 'db_password' ORDER BY id");
      expect(rows.map((r) => r.action)).toContain("read");
      expect(rows[0]).toMatchObject({ action: "write", job_id: null, actor: expect.stringMatching(/@.+: asset set$/) });
      expect(rows[rows.length - 1]).toMatchObject({ action: "delete", job_id: null, actor: expect.stringMatching(/@.+: asset delete$/) });
      expect((await client.query("SELECT count(*)::int AS n FROM asset_audit WHERE asset = 'region'")).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });
});
