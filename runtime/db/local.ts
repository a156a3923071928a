// The project's own database: the embedded cluster of the current folder, recorded in
// `.runbook/db.json`. The first command that needs it creates and starts it (under a lock file,
// so concurrent first starts do not both run initdb); later commands find it running through
// the server's own postmaster.pid (a stale one after a crash is detected) and connect. A
// restart (after `runbook db stop`) takes the port recorded in db.json again when it is free.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { binaries, chooseDataDir, clusterUrl, initCluster, runningPort, startCluster, stopCluster, type ClusterInfo } from "./embedded.js";
import { withFileLock } from "./lock.js";
import { ensureSqlSandbox, sandboxUrl } from "./sql-sandbox.js";

export interface LocalStatus {
  runbookDir: string;
  /** null: no cluster was ever created here. */
  dataDir: string | null;
  running: { pid: number; port: number } | null;
  url: string | null;
  /** The port the server last listened on (it starts there again when that port is free). */
  port: number | null;
}

export function runbookDir(cwd = process.cwd()): string {
  return path.join(path.resolve(cwd), ".runbook");
}

function readInfo(dir: string): ClusterInfo | null {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, "db.json"), "utf8"));
    if (typeof info.dataDir === "string" && typeof info.password === "string") {
      if (!Number.isInteger(info.port)) delete info.port; // a hand-edited port: take any free one
      return info;
    }
  } catch {
    // missing or unreadable: a new cluster is made
  }
  return null;
}

function writeInfo(dir: string, info: ClusterInfo): void {
  fs.writeFileSync(path.join(dir, "db.json"), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The URL of this folder's embedded database, creating and starting it when needed, with the
 * sandbox `sql()` runs in (runtime/db/sql-sandbox.ts): made once per cluster, under the lock; the
 * password is recorded only once the role has it, so an interrupted run just makes another.
 */
export async function ensureLocalDatabase(cwd = process.cwd()): Promise<string> {
  const url = await startLocalDatabase(cwd);
  const dir = runbookDir(cwd);
  if (readInfo(dir)?.sqlPassword) return url;
  return withFileLock(path.join(dir, "db.lock"), async () => {
    const info = readInfo(dir);
    if (info && !info.sqlPassword) {
      const sqlPassword = randomBytes(18).toString("base64url");
      await ensureSqlSandbox(url, sqlPassword);
      writeInfo(dir, { ...info, sqlPassword });
    }
    return url;
  });
}

/** The URL of the sandbox `sql()` uses by default, when this folder's cluster runs and has one. */
export function localSqlUrl(cwd = process.cwd()): string | null {
  const info = readInfo(runbookDir(cwd));
  const running = info?.sqlPassword ? runningPort(info.dataDir) : null;
  return info?.sqlPassword && running ? sandboxUrl(clusterUrl(info, running.port), info.sqlPassword) : null;
}

/** The URL of this folder's embedded database, creating and starting it when needed. */
async function startLocalDatabase(cwd: string): Promise<string> {
  const dir = runbookDir(cwd);
  const known = readInfo(dir);
  const up = known && runningPort(known.dataDir);
  if (known && up) return clusterUrl(known, up.port);
  fs.mkdirSync(dir, { recursive: true });
  return withFileLock(path.join(dir, "db.lock"), async () => {
    let info = readInfo(dir);
    const running = info && runningPort(info.dataDir);
    if (info && running) return clusterUrl(info, running.port); // another process started it
    const bins = await binaries();
    if (!info || !fs.existsSync(path.join(info.dataDir, "PG_VERSION"))) {
      info = { dataDir: chooseDataDir(dir), password: randomBytes(18).toString("base64url") };
      const orphan = runningPort(info.dataDir);
      if (orphan) throw new Error(`a PostgreSQL server (pid ${orphan.pid}) from an earlier copy of this folder still runs on ${info.dataDir}; stop it first`);
      // A half-made data dir (initdb interrupted) is discarded, never reused.
      fs.rmSync(info.dataDir, { recursive: true, force: true });
      await initCluster(info, bins);
      writeInfo(dir, info);
    }
    // postmaster.pid left by a crash names a dead (or reused) pid: postgres would refuse it.
    fs.rmSync(path.join(info.dataDir, "postmaster.pid"), { force: true });
    const port = await startCluster(info, bins);
    // The next start tries this port first (see ClusterInfo.port).
    if (info.port !== port) writeInfo(dir, { ...info, port });
    return clusterUrl(info, port);
  });
}

export function localStatus(cwd = process.cwd()): LocalStatus {
  const dir = runbookDir(cwd);
  const info = readInfo(dir);
  const running = info ? runningPort(info.dataDir) : null;
  return { runbookDir: dir, dataDir: info?.dataDir ?? null, running, url: info && running ? clusterUrl(info, running.port) : null, port: info?.port ?? null };
}

/** Stops this folder's embedded database; false when it was not running. */
export async function stopLocalDatabase(cwd = process.cwd()): Promise<boolean> {
  const info = readInfo(runbookDir(cwd));
  if (!info) return false;
  return stopCluster(info.dataDir, await binaries());
}
