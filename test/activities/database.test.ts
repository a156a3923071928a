// sql and asset on a real PostgreSQL: parameters never become SQL, rows come back JSON-safe,
// secrets are sealed at rest, opened only with the key, and masked in what a job writes.
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActivityHost } from "../../runtime/activities.js";
import { getAsset, setAsset } from "../../runtime/builtins/asset.js";
import { sql } from "../../runtime/builtins/sql.js";
import { startTestDb, type TestDb } from "./pg.js";

const run = promisify(execFile);
const KEY = "correct horse battery staple";
const RAW_KEY = Buffer.alloc(32, 7).toString("base64");
let t: TestDb;

beforeAll(async () => {
  t = await startTestDb();
});
afterAll(async () => {
  await t?.stop();
});

describe("sql", () => {
  it("an injection attempt through a parameter stays a value", async () => {
    await sql({ query: "CREATE TABLE vms (name text PRIMARY KEY, size text)" }, t.query);
    const evil = "x'); DROP TABLE vms; --";
    await sql({ query: "INSERT INTO vms (name, size) VALUES ($1, $2)", params: [evil, "small"] }, t.query);
    const rows = await sql({ query: "SELECT name, size FROM vms WHERE name = $1", params: [evil] }, t.query);
    expect(rows).toEqual([{ name: evil, size: "small" }]);
    expect(await sql({ query: "SELECT count(*) AS n FROM vms WHERE name = $1", params: ["' OR '1'='1"] }, t.query)).toEqual([{ n: 0 }]);
    // A parameter cannot add a statement either.
    await expect(sql({ query: "SELECT $1::int AS n", params: ["1; DROP TABLE vms"] }, t.query)).rejects.toThrow(/sql failed: invalid input syntax for type integer.*\(SQLSTATE 22P02\)/);
    expect(await sql({ query: "SELECT count(*) AS n FROM vms" }, t.query)).toEqual([{ n: 1 }]);
  });

  it("returns JSON-safe rows", async () => {
    const rows = await sql(
      {
        query: `SELECT 42::int8 AS small, 9007199254740993::int8 AS huge, 1.50::numeric AS dec,
                  12345678901234567890.5::numeric AS bigdec, 'NaN'::numeric AS nan,
                  '2024-03-01T12:00:00Z'::timestamptz AS at, '2024-03-01'::date AS day,
                  '{"a": [1, null]}'::jsonb AS doc, '\\x0aff'::bytea AS bin, ARRAY[1, 2]::int[] AS arr,
                  NULL AS nothing, true AS yes, $1::jsonb AS param_doc`,
        params: [{ k: "v" }],
      },
      t.query,
    );
    expect(rows).toEqual([
      {
        small: 42,
        huge: "9007199254740993",
        dec: 1.5,
        bigdec: "12345678901234567890.5",
        nan: "NaN",
        at: "2024-03-01T12:00:00.000Z",
        day: "2024-03-01",
        doc: { a: [1, null] },
        bin: "\\x0aff",
        arr: [1, 2],
        nothing: null,
        yes: true,
        param_doc: { k: "v" },
      },
    ]);
  });

  it("a bad query is a clear error", async () => {
    await expect(sql({ query: "SELECT * FROM no_such_table" }, t.query)).rejects.toThrow('sql failed: relation "no_such_table" does not exist (SQLSTATE 42P01)');
    await expect(sql({ query: "SELECT 1", params: "x" as never }, t.query)).rejects.toThrow("sql params must be a list");
  });
});

describe("assets", () => {
  it("a plain asset reads back as stored", async () => {
    await setAsset(t.query, "region", "eu-west-1", false);
    await setAsset(t.query, "targets", ["a", "b"], false);
    expect(await getAsset(t.query, "region")).toEqual({ name: "region", secret: false, value: "eu-west-1" });
    expect((await getAsset(t.query, "targets")).value).toEqual(["a", "b"]);
  });

  it("a secret is sealed at rest and opens only with the key", async () => {
    await setAsset(t.query, "db_password", "s3cr3t-hunter2", true, KEY);
    const { rows } = await t.query("SELECT * FROM assets WHERE name = $1", ["db_password"]);
    expect(rows[0].value).toBe(null);
    expect(String(rows[0].sealed)).toMatch(/^v1\.scrypt\./);
    const dump = JSON.stringify((await t.query("SELECT * FROM assets", [])).rows);
    expect(dump).not.toContain("s3cr3t-hunter2");
    expect(Buffer.from(dump).toString("base64")).not.toContain(Buffer.from("s3cr3t-hunter2").toString("base64"));

    expect((await getAsset(t.query, "db_password", KEY)).value).toBe("s3cr3t-hunter2");
    await expect(getAsset(t.query, "db_password", "another passphrase")).rejects.toThrow("cannot open secret asset db_password: wrong RUNBOOK_SECRET_KEY, or the stored value was altered");
    await expect(getAsset(t.query, "db_password", RAW_KEY)).rejects.toThrow("it was sealed with a passphrase, but RUNBOOK_SECRET_KEY is a base64 key");
  });

  it("a sealed value moved to another name does not open", async () => {
    await setAsset(t.query, "api_token", "token-abcdef", true, RAW_KEY);
    await setAsset(t.query, "other_token", "token-zzzzzz", true, RAW_KEY);
    await t.query("UPDATE assets SET sealed = (SELECT sealed FROM assets WHERE name = 'api_token') WHERE name = 'other_token'", []);
    await expect(getAsset(t.query, "other_token", RAW_KEY)).rejects.toThrow("cannot open secret asset other_token");
    expect((await getAsset(t.query, "api_token", RAW_KEY)).value).toBe("token-abcdef");
  });

  it("clear errors: unknown name, bad name, missing key, short secret", async () => {
    await expect(getAsset(t.query, "nope")).rejects.toThrow('asset "nope" is not set (set it with: runbook asset set nope)');
    await expect(setAsset(t.query, "bad name", "x", false)).rejects.toThrow('asset name "bad name" is not valid');
    await expect(setAsset(t.query, "k", "long-enough", true, "")).rejects.toThrow("RUNBOOK_SECRET_KEY is not set");
    await expect(setAsset(t.query, "k", "abc", true, KEY)).rejects.toThrow("a secret needs at least 4 characters");
  });

  it("asset() through the host masks the secret in everything the job writes", async () => {
    await setAsset(t.query, "ssh_key", "ssh-ed25519-AAAAsecretpart", true, KEY);
    await setAsset(t.query, "cred", { user: "admin", password: "pa55-word-xyz" }, true, KEY);
    const host = new ActivityHost({ query: t.query, secretKey: KEY });
    // A job that never calls asset() (a resumed run) still masks every stored secret.
    const resumed = await host.forJob({ jobId: "j0", log: () => {} });
    expect(resumed.mask("leaked ssh-ed25519-AAAAsecretpart")).toBe("leaked ***");

    const noPreload = new ActivityHost({ query: async (text, params) => (/WHERE secret$/.test(text) ? { rows: [] } : t.query(text, params)), secretKey: KEY });
    const job = await noPreload.forJob({ jobId: "j1", log: () => {} });
    expect(job.mask("pa55-word-xyz")).toBe("pa55-word-xyz");
    const cred = await job.activity("", "asset", { name: "cred" });
    expect(cred).toEqual({ user: "admin", password: "pa55-word-xyz" });
    expect(job.mask({ line: `connecting with ${JSON.stringify(cred)}`, pw: "pa55-word-xyz" })).toEqual({ line: "connecting with ***", pw: "***" });
    expect(job.secrets.has("pa55-word-xyz")).toBe(true);
    expect(await job.activity("", "asset", { name: "region" })).toBe("eu-west-1");
    expect(job.secrets.has("eu-west-1")).toBe(false);
  });

  it("runbook asset set: value from stdin, --secret sealed, a missing key is one line", async () => {
    const cli = path.resolve("bin/runbook.js");
    const env = { ...process.env, DATABASE_URL: t.url, RUNBOOK_SECRET_KEY: KEY };
    const child = execFile(process.execPath, [cli, "asset", "set", "from_stdin", "--secret"], { env });
    child.stdin!.end("stdin-secret-value\n");
    const out = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stdout!.on("data", (d) => (text += d));
      child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    expect(out).toBe("asset from_stdin set (secret, encrypted)\n");
    expect((await getAsset(t.query, "from_stdin", KEY)).value).toBe("stdin-secret-value");

    await run(process.execPath, [cli, "asset", "set", "json_list", '["a", "b"]'], { env });
    expect((await getAsset(t.query, "json_list")).value).toEqual(["a", "b"]);

    const noKey = { ...env, RUNBOOK_SECRET_KEY: "" };
    const err = await run(process.execPath, [cli, "asset", "set", "x", "value", "--secret"], { env: noKey }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2, stderr: "runbook: RUNBOOK_SECRET_KEY is not set: secrets need a key (32 bytes in base64, or a passphrase)\n" });
  });
});
