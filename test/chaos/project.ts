// The soak's project: a temp folder holding the soak's runbooks and ledger activity, with
// node_modules linked in (the ledger imports `pg`), and its database: the folder's own embedded
// PostgreSQL (started by the first `runbook` command there, as for any user), or a fresh
// database on the server of DATABASE_URL. The embedded server can be restarted under the
// workers on the same port; with DATABASE_URL that fault is not possible and is skipped.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { binaries, stopCluster } from "../../runtime/db/embedded.js";
import { localStatus } from "../../runtime/db/local.js";
import { ROOT, runbook, type Ran } from "../runtime/process.js";

export const RUNBOOKS = path.join(ROOT, "test", "chaos", "runbooks");

export class Project {
  /** The soak's own connections (application_name `chaos`: spared by pg_terminate_backend). */
  readonly pool: pg.Pool;

  private constructor(
    readonly dir: string,
    /** The database URL (the embedded server's, or the fresh database on DATABASE_URL's server). */
    readonly url: string,
    /** The embedded server, or null with DATABASE_URL. */
    readonly embedded: { dataDir: string; port: number } | null,
    private readonly dropUrl: string | null,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 6, application_name: "chaos" });
    this.pool.on("error", () => undefined);
  }

  /** Makes the folder, publishes the runbooks (starting the embedded database) and the ledger table. */
  static async create(): Promise<Project> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-chaos-"));
    // Reachable by the `postgres` user when we are root, so the cluster lives under .runbook/.
    fs.chmodSync(dir, 0o755);
    fs.cpSync(RUNBOOKS, path.join(dir, "runbooks"), { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules")), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ private: true, type: "module" })}\n`);
    let url: string;
    let dropUrl: string | null = null;
    const server = process.env.DATABASE_URL;
    if (server) {
      const name = `runbook_chaos_${randomBytes(5).toString("hex")}`;
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } catch (e) {
        throw new Error(`cannot create a database for the soak on DATABASE_URL's server: ${(e as Error).message}`);
      } finally {
        await admin.end();
      }
      const u = new URL(server);
      u.pathname = `/${name}`;
      url = u.toString();
      dropUrl = server;
    }
    const env = server ? { DATABASE_URL: url! } : { DATABASE_URL: undefined };
    const pub = await runbook(["publish", "runbooks"], { cwd: dir, env, timeoutMs: 180_000 });
    if (pub.code !== 0) throw new Error(`runbook publish failed: ${pub.stderr.trim()}`);
    let embedded: { dataDir: string; port: number } | null = null;
    if (!server) {
      const s = localStatus(dir);
      if (!s.url || !s.running || !s.dataDir) throw new Error(`the embedded database of ${dir} is not running after publish`);
      url = s.url;
      embedded = { dataDir: s.dataDir, port: s.running.port };
    }
    const p = new Project(dir, url!, embedded, dropUrl);
    await p.pool.query(`CREATE TABLE IF NOT EXISTS chaos_ledger (
      id bigserial PRIMARY KEY, job text NOT NULL, pos integer NOT NULL, attempt integer NOT NULL,
      worker text NOT NULL, epoch bigint NOT NULL, job_epoch bigint, job_status text,
      accepted boolean NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    return p;
  }

  /** The environment of every `runbook` process of the soak. */
  get env(): Record<string, string | undefined> {
    return { DATABASE_URL: this.embedded ? undefined : this.url, LEDGER_URL: this.url };
  }

  /** `runbook ARGS` in the project folder, as an operator types it. */
  cli(args: string[], timeoutMs = 120_000): Promise<Ran> {
    return runbook(args, { cwd: this.dir, env: this.env, timeoutMs });
  }

  /** The database's clock, now. */
  async now(): Promise<Date> {
    return (await this.pool.query<{ t: Date }>("SELECT clock_timestamp() AS t")).rows[0].t;
  }

  /** Stops the embedded server (fast: sessions are cut), waits `downMs`, starts it on the same port. */
  async restartDatabase(downMs: number): Promise<void> {
    if (!this.embedded) throw new Error("the database of DATABASE_URL cannot be restarted by the soak");
    const bins = await binaries();
    await stopCluster(this.embedded.dataDir, bins);
    await new Promise((r) => setTimeout(r, downMs));
    await this.startDatabase(bins.pg_ctl);
  }

  /** pg_ctl start on the recorded port, as the server's user (`postgres` when we are root). */
  private async startDatabase(pgCtl: string): Promise<void> {
    const { dataDir, port } = this.embedded!;
    const asPostgres = process.getuid?.() === 0 ? { uid: Number(idOf("-u")), gid: Number(idOf("-g")) } : {};
    for (let attempt = 1; ; attempt++) {
      const code = await new Promise<number>((resolve) => {
        const child = spawn(pgCtl, ["start", "-w", "-t", "60", "-D", dataDir, "-l", path.join(dataDir, "server.log"), "-o", `-p ${port}`], {
          ...asPostgres,
          cwd: "/",
          stdio: "ignore",
        });
        child.on("close", (c) => resolve(c ?? 1));
      });
      if (code === 0) return;
      // The old server's processes may hold the port or shared memory for a moment.
      if (attempt >= 10) throw new Error(`pg_ctl start on port ${port} failed ${attempt} times`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Stops the database (or drops the soak's database) and removes the folder. */
  async destroy(): Promise<void> {
    await this.pool.end().catch(() => undefined);
    if (this.embedded) await stopCluster(this.embedded.dataDir, await binaries()).catch(() => undefined);
    if (this.dropUrl) {
      const admin = new pg.Client({ connectionString: this.dropUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${new URL(this.url).pathname.slice(1)} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function idOf(flag: string): string {
  return execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim();
}
