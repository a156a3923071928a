// `runbook test` with fakes, through the real CLI: fake assets (secrets masked in all it prints),
// sql() in a real throw-away database that is dropped afterwards, mocked activities that never
// run (a module whose real function writes a file: the file is not written), --offline, the
// runbooks/ examples with no live fleet, and one-line errors for bad flags and fixtures.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../../cli/errors.js";
import { TestActivities } from "../../cli/test-activities.js";
import { ThrowAwayDatabases } from "../../cli/test-database.js";
import { ProjectActivities, readFakes, type FakeFlags } from "../../cli/test-fakes.js";
import type { CompiledRunbook } from "../../runtime/abi.js";
import { checkSources } from "../../compiler/program.js";
import { waitFor } from "../runtime/helpers.js";
import { BIN, runbook, ROOT, type Ran } from "../runtime/process.js";
import { adminUrl } from "../setup/db.js";

// Most tests run `runbook test` as a process (it loads the CLI and compiles the project): on a
// loaded 2-core machine one takes seconds, so the tests allow minutes.
const SLOW = { timeout: 240_000 };
const tmp = mkdtempSync(path.join(tmpdir(), "runbook-test-fakes-"));
const demo = path.join(tmp, "demo");
let env: Record<string, string>;

beforeAll(async () => {
  // The demo activities would write under RUNBOOK_DEMO_DIR: with every call mocked, nothing may.
  env = { DATABASE_URL: await adminUrl(), RUNBOOK_DEMO_DIR: demo, RUNBOOK_DEMO_BOOT_MS: "10" };
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a project folder and returns the path of its first file. */
function project(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return path.join(dir, Object.keys(files)[0]);
}

function fixture(name: string, doc: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

function test(file: string, ...flags: string[]): Promise<Ran> {
  return runbook(["test", file, ...flags], { cwd: ROOT, env });
}

async function throwAwayDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT datname FROM pg_database WHERE datname LIKE 'runbook_test_%'");
    return rows.map((r) => r.datname as string);
  } finally {
    await client.end();
  }
}

const VM = {
  id: "vm-web1",
  name: "web1",
  size: "small",
  cpus: 1,
  memoryMb: 1024,
  ip: "10.0.0.2",
  state: "booting",
  role: null,
  createdAt: "2026-01-01T00:00:00Z",
  bootedAt: "2026-01-01T00:00:02Z",
  configuredAt: null,
};
const HEALTHY = { host: "vm-web1", healthy: true, detail: "up", checkedAt: "2026-01-01T00:00:05Z" };

describe("the runbooks/ examples with fakes", SLOW, () => {
  it("sync_inventory: assets faked, http mocked, sql in a throw-away database that is dropped after", async () => {
    const before = await throwAwayDatabases();
    const r = await test("runbooks/sync_inventory.runbook", "--fixtures", "runbooks/sync_inventory.fixtures.json");
    expect(r.stderr).toContain("sync_inventory: completed, result 3\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("3 hosts in eu-west-1\n");
    expect(r.stderr).toContain("log: db1: db\n");
    // 2 assets + 4 sql faked, 1 http mocked, in the straight run; the others replayed them.
    expect(r.stderr).toContain("8 activity calls ran once (1 mocked, 7 faked)");
    expect(await throwAwayDatabases()).toEqual(before);
  });

  it("sync_inventory: the region asset changes what sql stores and reads back", async () => {
    const r = await test("runbooks/sync_inventory.runbook", "--fixtures", "runbooks/sync_inventory.fixtures.json", "--asset", "region=us-east-2");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("3 hosts in us-east-2\n");
  });

  it("test_failover (and WriteLog inline): sql() really writes, once per loop", async () => {
    const r = await test("runbooks/test_failover.runbook", "--param", "loops=3", "--param", "pause=1s", "--offline");
    expect(r.stderr).toContain("test_failover: completed, result 3\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("run 00000000-0000-4000-8000-000000000000: 3 loops, 1000 ms apart\nloop 1 written\nloop 2 written\nloop 3 written\n");
    expect(r.stderr).toContain("6 activity calls ran once (6 faked)");
  });

  it("build_vm with mocks and --offline: a retry sees the mocked error, then the mocked result; no VM is made", async () => {
    const fixtures = fixture("build_vm.json", {
      activities: {
        "infra.createVm": { result: VM },
        "infra.configureVm": [{ error: "vm-web1 is still booting" }, { result: { id: "vm-web1", role: "web", packages: ["nginx"], configuredAt: "2026-01-01T00:00:03Z" } }],
        "infra.healthCheck": { result: HEALTHY },
      },
    });
    const r = await test("runbooks/build_vm.runbook", "--param", "name=web1", "--offline", "--fixtures", fixtures);
    expect(r.stderr).toContain('build_vm: completed, result "vm-web1"\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("web1 is ready as vm-web1\n");
    expect(r.stderr).toContain("4 activity calls ran once (4 mocked)");
    expect(existsSync(demo)).toBe(false);
  });

  it("rolling_restart and nightly_backup with mocks touch no host and no backup folder", async () => {
    const restart = await test(
      "runbooks/rolling_restart.runbook",
      "--param",
      'hosts=["a","b"]',
      "--signal",
      'approve={"ok":true}',
      "--offline",
      "--mock",
      'infra.restartHost={"host":"a","bootCount":1,"upAt":"2026-01-01T00:00:01Z"}',
      "--mock",
      `infra.healthCheck=${JSON.stringify(HEALTHY)}`,
    );
    expect(restart.code).toBe(0);
    expect(restart.stdout).toBe("batch done: 2 of 2 hosts restarted\n");
    const backup = { database: "orders", path: "/backups/orders.gz", bytes: 10, rows: 1, sha256: "ab", takenAt: "2026-01-01T00:00:00Z" };
    const nightly = await test(
      "runbooks/nightly_backup.runbook",
      "--param",
      'databases=["orders"]',
      "--offline",
      "--mock",
      `infra.backupDatabase=${JSON.stringify(backup)}`,
      "--mock",
      'infra.verifyBackup={"ok":true,"detail":"fine","rows":1}',
      "--mock",
      "infra.pruneBackups=2",
    );
    expect(nightly.code).toBe(0);
    expect(nightly.stdout).toBe("orders: /backups/orders.gz (10 bytes)\n");
    expect(nightly.stderr).toContain("log: orders: pruned 2 old backups\n");
    expect(existsSync(demo)).toBe(false);
  });
});

const TOUCH = {
  // Outside this repository a .ts activity module needs a package.json saying ESM.
  "package.json": '{ "type": "module" }',
  "touch.ts": `import { writeFileSync } from "node:fs";
/** Writes touched.txt next to this module: the world this test watches. */
export async function touch(args: { note: string }): Promise<{ wrote: string; bytes: number }> {
  const file = new URL("./touched.txt", import.meta.url);
  writeFileSync(file, args.note);
  return { wrote: file.pathname, bytes: args.note.length };
}
`,
};

describe("mocked activities do not touch the world", SLOW, () => {
  const touching = `use "./touch.ts" as world

runbook touching() -> number {
  let r = world.touch(note: "hello")
  checkpoint
  output "wrote \${r.bytes} bytes"
  return r.bytes
}
`;

  it("the real function writes its file; the mocked one never runs", async () => {
    const live = project("touch-live", { "touching.runbook": touching, ...TOUCH });
    const ran = await test(live);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe("wrote 5 bytes\n");
    expect(readFileSync(path.join(path.dirname(live), "touched.txt"), "utf8")).toBe("hello");

    const mocked = project("touch-mocked", { "touching.runbook": touching, ...TOUCH });
    const r = await test(mocked, "--mock", 'world.touch={"wrote":"nowhere","bytes":42}', "--offline");
    expect(r.stderr).toContain("touching: completed, result 42\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("wrote 42 bytes\n");
    expect(existsSync(path.join(path.dirname(mocked), "touched.txt"))).toBe(false);
  });

  it("a mocked call's arguments are checked against the declared parameter types", async () => {
    const file = project("bad-arg", {
      "anyarg.runbook": `use "./touch.ts" as world

runbook anyarg() {
  let note: any = json_parse("5")
  world.touch(note: note)
}
`,
      ...TOUCH,
    });
    const r = await test(file, "--mock", 'world.touch={"wrote":"x","bytes":1}');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/anyarg\.runbook:5:\d+: error: runbook test: world\.touch was called with an argument note that does not fit its declared type: expected string, got number 5\n/);
    expect(r.stderr).toContain("(1 refused)");
  });

  it("--offline fails an unmocked call (even one the runbook catches), exec included", async () => {
    const file = project("offline", {
      "careful.runbook": `use "./touch.ts" as world

runbook careful() {
  try {
    world.touch(note: "x")
  } catch err {
    output "caught: \${err.message}"
  }
  let r = exec(["true"])
  output r.code
}
`,
      ...TOUCH,
    });
    const r = await test(file, "--offline");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("caught: runbook test: world.touch has no mock and --offline lets nothing run live (add --mock world.touch=JSON)\n");
    expect(r.stderr).toContain("runbook test: world.touch has no mock and --offline lets nothing run live (add --mock world.touch=JSON)\n");
    expect(r.stderr).toMatch(/careful\.runbook:9:\d+: error: runbook test: exec has no mock and --offline lets nothing run live \(add --mock exec=JSON\)\n/);
    expect(existsSync(path.join(path.dirname(file), "touched.txt"))).toBe(false);
  });
});

describe("fake assets and secrets", SLOW, () => {
  const leaky = `runbook leaky() -> string {
  let region = asset("region")
  let r = exec(["show-token", asset("token")])
  output "\${region}: \${r.stdout}"
  log json_string({out: r.stdout})
  return r.stdout
}
`;

  it("a fake secret is masked in every stream, the result and the summary", async () => {
    const secretFile = path.join(tmp, "token.txt");
    writeFileSync(secretFile, "s3cr3t-\"quoted\"-token\n");
    const file = project("secret", { "leaky.runbook": leaky });
    const r = await test(file, "--asset", "region=eu", "--secret", `token=@${secretFile}`, "--mock", 'exec={"code":0,"stdout":"token=s3cr3t-\\"quoted\\"-token","stderr":""}');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("eu: token=***\n");
    expect(r.stderr).toContain('log: {"out":"token=***"}\n');
    expect(r.stderr).toContain('leaky: completed, result "token=***"\n');
    expect(r.stdout + r.stderr).not.toContain("s3cr3t");
  });

  it("an asset nobody faked fails the test with what to pass, even with DATABASE_URL set", async () => {
    const file = project("unfaked", { "leaky.runbook": leaky });
    const r = await test(file, "--asset", "region=eu");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: runbook test: asset "token" is not faked: runbook test never reads stored assets (pass --asset token=VALUE or --secret token=VALUE)\n');
    expect(r.stderr).not.toContain("no runbook database is connected");
  });

  it("a mock sequence that runs out fails the test; a mocked error is what the runbook catches", async () => {
    const file = project("sequence", {
      "seq.runbook": `runbook seq() {
  for i in 1..3 {
    try {
      let r = exec(["probe"])
      output "probe \${i}: \${r.stdout}"
    } catch err {
      output "probe \${i} failed: \${err.message} \${json_string(err.data)}"
    }
  }
}
`,
    });
    const fixtures = fixture("seq.json", { activities: { exec: [{ result: { code: 0, stdout: "up", stderr: "" } }, { error: "no route to host", data: { host: "h1" } }] } });
    const r = await test(file, "--fixtures", fixtures);
    expect(r.stdout).toBe(`probe 1: up\nprobe 2 failed: no route to host {"host":"h1"}\nprobe 3 failed: runbook test: exec was called 3 times, but ${fixtures}: activities["exec"] has 2 answers null\n`);
    expect(r.stderr).toContain(`runbook test: exec was called 3 times, but ${fixtures}: activities["exec"] has 2 answers\n`);
    expect(r.code).toBe(1);
  });

  it("sql() runs in a database of its own, as a role that is not a superuser; both gone after the test", async () => {
    const file = project("whichdb", {
      "which.runbook": `runbook which() {
  let rows = sql("""SELECT current_database() AS db, current_user AS who,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super,
    (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables""")
  output rows[0]
  try {
    sql("COPY (SELECT 1) TO PROGRAM 'touch /tmp/runbook-test-was-superuser'")
  } catch err {
    output err.message
  }
  output sql("SELECT current_database() AS db", [], connection: "reporting")[0].db
}
`,
    });
    const r = await test(file, "--database", env.DATABASE_URL);
    expect(r.code).toBe(0);
    const [first, copy, reporting] = r.stdout.trim().split("\n");
    const row = JSON.parse(first) as { db: string; who: string; super: boolean; tables: number };
    expect(row.db).toMatch(/^runbook_test_[0-9a-f]{12}$/);
    expect(row).toEqual({ db: row.db, who: row.db, super: false, tables: 0 });
    expect(copy).toMatch(/^sql failed on connection default: permission denied to COPY to or from an external program/);
    // A named connection is a database of its own.
    expect(reporting).toMatch(/^runbook_test_[0-9a-f]{12}$/);
    expect(reporting).not.toBe(row.db);
    expect(await throwAwayDatabases()).not.toContain(row.db);
    expect(await throwAwayDatabases()).not.toContain(reporting);
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      expect((await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [row.who])).rows).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("Ctrl-C during the run still drops the throw-away database", async () => {
    const marker = path.join(tmp, "interrupted.pid");
    const file = project("interrupted", {
      "slow.runbook": `runbook slow() {
  sql("CREATE TABLE t (x int)")
  exec(["sh", "-c", "echo $$ > ${marker}; exec sleep 120"])
}
`,
    });
    const before = await throwAwayDatabases();
    const child = spawn(process.execPath, [BIN, "test", file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      // The exec runs once the database exists and the first sql() went through.
      await waitFor("the runbook's exec to start", async () => existsSync(marker) && readFileSync(marker, "utf8").trim() !== "", 60_000);
      expect((await throwAwayDatabases()).filter((d) => !before.includes(d))).toHaveLength(1);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(stderr).toContain("runbook test: SIGINT: stopping; dropping the throw-away database\n");
      expect(await throwAwayDatabases()).toEqual(before);
    } finally {
      child.kill("SIGKILL");
      const pid = Number(existsSync(marker) ? readFileSync(marker, "utf8").trim() : NaN);
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, "SIGKILL"); // the sleep the runbook started (its own process group)
        } catch {
          // already gone
        }
      }
    }
  });

  it("a user who may create databases but not roles gets the database alone, used as that user", async () => {
    const user = `rb_createdb_${Date.now().toString(36)}`;
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      await client.query(`CREATE ROLE ${user} LOGIN CREATEDB NOCREATEROLE PASSWORD 'pw-${user}'`);
      // The runtime's database may be closed to PUBLIC (the embedded setup does so): open it to this user.
      await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(new URL(env.DATABASE_URL).pathname.slice(1) || "postgres")} TO ${user}`);
      const url = new URL(env.DATABASE_URL);
      url.username = user;
      url.password = `pw-${user}`;
      const file = project("createdb-only", { "w.runbook": 'runbook w() {\n  output sql("SELECT current_user AS who, current_database() AS db")[0]\n}\n' });
      const r = await test(file, "--database", url.toString());
      expect(r.stderr).toContain("w: completed");
      const row = JSON.parse(r.stdout) as { who: string; db: string };
      expect(row.who).toBe(user);
      expect(row.db).toMatch(/^runbook_test_/);
      expect((await client.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'runbook_test_%'")).rows).toEqual([]);
      expect(await throwAwayDatabases()).not.toContain(row.db);
    } finally {
      await client.query(`DROP OWNED BY ${user}`).catch(() => undefined); // the grant above
      await client.query(`DROP ROLE IF EXISTS ${user}`);
      await client.end();
    }
  });

  it("a server that cannot be reached fails the sql call with one line", async () => {
    const file = project("nodb", { "q.runbook": 'runbook q() {\n  sql("SELECT 1")\n}\n' });
    const r = await test(file, "--database", "postgres://nobody:pw@127.0.0.1:1/postgres");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/q\.runbook:2:\d+: error: runbook test: cannot create a throw-away database for sql\(\) on 127\.0\.0\.1:1: cannot reach the database at 127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // A runbook that cannot reach sql() never connects: the same server is no problem.
    const plain = project("nosql", { "p.runbook": 'runbook p() {\n  output "fine"\n}\n' });
    const fine = await test(plain, "--database", "postgres://nobody:pw@127.0.0.1:1/postgres");
    expect(fine).toMatchObject({ code: 0, stdout: "fine\n" });
  });
});

describe("bad flags and fixtures: one line, exit 2", SLOW, () => {
  const checked = checkSources([
    {
      file: "runbooks/build_vm.runbook",
      text: readFileSync(path.join(ROOT, "runbooks/build_vm.runbook"), "utf8"),
    },
  ]);
  const activities = new ProjectActivities(checked);
  const flags = (f: Partial<FakeFlags>): FakeFlags => ({ asset: [], secret: [], mock: [], ...f });
  const usage = (f: Partial<FakeFlags>): string => {
    try {
      readFakes(flags(f), activities);
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).exitCode).toBe(2);
      return (e as CliError).message;
    }
    throw new Error("expected a usage error");
  };

  it("checks names, forms and JSON", () => {
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(usage({ asset: ["region"] })).toBe("--asset region: write it as NAME=VALUE or NAME=@FILE");
    expect(usage({ asset: ["9lives=x"] })).toBe('--asset 9lives: asset name "9lives" is not valid: use letters, digits, _ . - (starting with a letter or _)');
    expect(usage({ asset: ["a=1", "a=2"] })).toBe("asset a is given twice");
    expect(usage({ asset: ["a=1"], secret: ["a=long-enough"] })).toBe("asset a is given twice");
    expect(usage({ secret: ["pw=abc"] })).toBe("--secret pw: a secret needs at least 4 characters (shorter ones cannot be masked in logs)");
    expect(usage({ asset: [`cfg=@${path.join(tmp, "missing.json")}`] })).toBe(`--asset cfg: cannot read ${path.join(tmp, "missing.json")}: no such file`);
    expect(usage({ mock: ["infra.createVm={id"] })).toBe('--mock infra.createVm: the answer "{id" is not JSON');
    expect(usage({ mock: ["infra.createVm"] })).toBe("--mock infra.createVm: write it as MODULE.FUNCTION=JSON or MODULE.FUNCTION=@FILE");
  });

  it("checks that the activity exists and the answer fits its declared result", () => {
    expect(usage({ mock: ["infr.createVm=1"] })).toBe("--mock infr.createVm: no runbook here uses a module as infr (aliases: infra); did you mean `infra`?");
    expect(usage({ mock: ["infra.createVM=1"] })).toBe("--mock infra.createVM: the module used as infra exports no function createVM; did you mean `createVm`?");
    expect(usage({ mock: ["exex=1"] })).toBe("--mock exex: exex is not a built-in activity (write a module's function as ALIAS.FUNCTION; built-ins: exec, http, sql); did you mean `exec`?");
    expect(usage({ mock: ["asset=1"] })).toBe("--mock asset: asset() is not mocked: fake the asset with --asset NAME=VALUE or --secret NAME=VALUE");
    expect(usage({ mock: ['infra.createVm={"id":"vm-1"}'] })).toBe(
      "--mock infra.createVm: the answer does not fit infra.createVm's declared result {id: string, name: string, size: string, cpus: number, …7 more}: name: missing field of type string",
    );
    expect(usage({ mock: [`infra.createVm=${JSON.stringify({ ...VM, cpus: "one" })}`] })).toMatch(/: cpus: expected number, got string "one"$/);
    expect(usage({ mock: ['exec={"code":0,"stdout":"","stderr":null}'] })).toBe(
      "--mock exec: the answer does not fit exec's declared result {code: number, stdout: string, stderr: string}: stderr: expected string, got null",
    );
    expect(readFakes(flags({ mock: [`infra.createVm=${JSON.stringify(VM)}`, 'sql=[{"n":1}]'] }), activities).mocks.size).toBe(2);
  });

  it("checks the fixtures file", () => {
    const f = (doc: unknown) => fixture("bad.json", doc);
    const bad = f({});
    expect(usage({ fixtures: path.join(tmp, "nope.json") })).toBe(`--fixtures ${path.join(tmp, "nope.json")}: no such file`);
    writeFileSync(bad, "{ assets: 1 }");
    expect(usage({ fixtures: bad })).toMatch(/^--fixtures .*bad\.json: not JSON: /);
    expect(usage({ fixtures: f({ asset: {} }) })).toBe(`${bad}: unknown key "asset" (it takes assets, secrets, activities); did you mean \`assets\`?`);
    expect(usage({ fixtures: f({ assets: ["x"] }) })).toBe(`${bad}: assets must be an object of NAME: VALUE`);
    expect(usage({ fixtures: f({ assets: { a: 1 }, secrets: { a: "long-enough" } }) })).toBe(`${bad}: asset a is in both assets and secrets`);
    expect(usage({ fixtures: f({ activities: { "infra.healthCheck": HEALTHY } }) })).toBe(
      `${bad}: activities["infra.healthCheck"]: write an answer as {"result": VALUE} or {"error": "MESSAGE"} (with "data" optional)`,
    );
    expect(usage({ fixtures: f({ activities: { "infra.healthCheck": [] } }) })).toBe(`${bad}: activities["infra.healthCheck"]: an empty list answers no call (give at least one answer)`);
    expect(usage({ fixtures: f({ activities: { "infra.healthCheck": [{ result: HEALTHY }, { result: { healthy: true } }] } }) })).toBe(
      `${bad}: activities["infra.healthCheck"][1]: the answer does not fit infra.healthCheck's declared result {host: string, healthy: bool, detail: string, checkedAt: string}: host: missing field of type string`,
    );
    const good = readFakes(flags({ fixtures: f({ assets: { region: "eu" }, activities: { exec: { error: "boom" } } }), asset: ["region=us"] }), activities);
    expect(good.assets.get("region")).toEqual({ value: "us", secret: false });
  });

  it("prints them as one line, no stack trace, exit 2 (the real CLI)", async () => {
    const r = await test("runbooks/build_vm.runbook", "--param", "name=x", "--mock", "infra.createVm=1");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "runbook: --mock infra.createVm: the answer does not fit infra.createVm's declared result {id: string, name: string, size: string, cpus: number, …7 more}: expected {id: string, name: string, size: string, cpus: number, memoryMb: number, ip: string, state: string, role: string?, createdAt: string, bootedAt: string, configuredAt: string?}, got number 1\n",
    );
    const url = await test("runbooks/build_vm.runbook", "--param", "name=x", "--database", "mysql://u:secretpw@h/db");
    expect(url.code).toBe(2);
    expect(url.stderr).toBe("runbook: --database must be a postgres:// URL, not mysql:\n");
  });
});

describe("asset_set under runbook test (a rotation runbook)", () => {
  it("stores into the fakes, keeps a secret's kind, and masks the old and the new value", async () => {
    const activities = new ProjectActivities(checkSources([]));
    const fakes = readFakes({ asset: ["region=eu"], secret: ["db_password=old-pass-1234"], mock: [] }, activities);
    const live = async () => {
      throw new Error("nothing may run live here");
    };
    const acts = new TestActivities(fakes, activities, new ThrowAwayDatabases("postgres://unused@127.0.0.1:1/x"), live);
    const call = { job: "job", attempt: 1, caller: { name: "rotate" } as CompiledRunbook, log: () => undefined };
    expect(await acts.activity("", "asset_set", { name: "db_password", value: "new-pass-5678" }, call)).toBeNull();
    expect(await acts.activity("", "asset", { name: "db_password" }, call)).toBe("new-pass-5678");
    expect(fakes.assets.get("db_password")).toEqual({ value: "new-pass-5678", secret: true });
    expect([...acts.secretTexts].sort()).toEqual(["new-pass-5678", "old-pass-1234"]);
    await acts.activity("", "asset_set", { name: "fresh", value: { a: 1 } }, call);
    expect(fakes.assets.get("fresh")).toEqual({ value: { a: 1 }, secret: false });
    await expect(acts.activity("", "asset_set", { name: "db_password", value: "abc" }, call)).rejects.toThrow("a secret needs at least 4 characters");
    await expect(acts.activity("", "asset_set", { name: "x", value: null }, call)).rejects.toThrow("asset_set x: the value must not be null");
    expect(acts.counts).toEqual({ mocked: 0, faked: 3, live: 0, refused: 0 });
    expect(acts.problems).toEqual([]);
  });
});

describe("sql connections under runbook test", () => {
  it("each connection name gets a throw-away database of its own; all are dropped", async () => {
    const activities = new ProjectActivities(checkSources([]));
    const fakes = readFakes({ asset: [], secret: [], mock: [] }, activities);
    const databases = new ThrowAwayDatabases(env.DATABASE_URL);
    const acts = new TestActivities(fakes, activities, databases, async () => null);
    const call = { job: "job", attempt: 1, caller: { name: "reports" } as CompiledRunbook, log: () => undefined };
    const which = async (connection?: string) =>
      ((await acts.activity("", "sql", { query: "SELECT current_database() AS db", ...(connection ? { connection } : {}) }, call)) as { db: string }[])[0].db;
    const before = await throwAwayDatabases();
    try {
      await acts.activity("", "sql", { query: "CREATE TABLE only_default (x int)" }, call);
      const [main, named, reporting] = [await which(), await which("default"), await which("reporting")];
      expect(named).toBe(main);
      expect(reporting).not.toBe(main);
      await expect(acts.activity("", "sql", { query: "SELECT * FROM only_default", connection: "reporting" }, call)).rejects.toThrow(/relation "only_default" does not exist/);
      expect((await throwAwayDatabases()).filter((d) => !before.includes(d)).sort()).toEqual([main, reporting].sort());
      await expect(acts.activity("", "sql", { query: "SELECT 1", connection: 5 }, call)).rejects.toThrow("sql connection must be a name (a string), got 5");
    } finally {
      await databases.dispose();
    }
    expect(await throwAwayDatabases()).toEqual(before);
  });
});
