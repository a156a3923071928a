// Demo activities for the example runbooks: a small "data center" kept as files under
// $RUNBOOK_DEMO_DIR (default .runbook/demo/ in the current folder), so every step leaves
// something to look at:
//
//   vms/<id>.json            a VM: size, state, role, boot time      (createVm, configureVm)
//   vms/<id>.conf            its rendered configuration              (configureVm)
//   hosts/<host>.json        a fleet host: boot count, up-at time     (restartHost)
//   faults/<name>            a number N: the next N restarts/configurations of <name> fail
//   databases/<db>.jsonl     a database's rows (seeded on first backup)
//   backups/<db>/<db>-<time>.jsonl.gz  (+ .sha256)                   (backupDatabase, ...)
//
// Machines take a moment to boot (RUNBOOK_DEMO_BOOT_MS, default 2000 ms): configureVm and
// healthCheck wait for them. Failures for `retry` to deal with are injected with faults/<name>.
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import type { ActivityContext } from "../runtime/activity-context.js";

export interface Vm {
  id: string;
  name: string;
  size: string;
  cpus: number;
  memoryMb: number;
  ip: string;
  /** "booting" until bootedAt, then "running". */
  state: string;
  role: string | null;
  createdAt: string;
  bootedAt: string;
  configuredAt: string | null;
}

export interface Health {
  host: string;
  healthy: boolean;
  detail: string;
  checkedAt: string;
}

export interface Backup {
  database: string;
  path: string;
  bytes: number;
  rows: number;
  sha256: string;
  takenAt: string;
}

const SIZES: Record<string, { cpus: number; memoryMb: number }> = {
  small: { cpus: 1, memoryMb: 1024 },
  medium: { cpus: 2, memoryMb: 4096 },
  large: { cpus: 8, memoryMb: 16384 },
};

function demoDir(): string {
  return path.resolve(process.env.RUNBOOK_DEMO_DIR ?? path.join(".runbook", "demo"));
}

function bootMs(): number {
  const v = Number(process.env.RUNBOOK_DEMO_BOOT_MS);
  return Number.isFinite(v) && v >= 0 ? v : 2000;
}

/** Names become file names: refuse anything that could leave the demo folder. */
function safeName(kind: string, name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name) || name.includes("..")) {
    throw new Error(`${kind} name ${JSON.stringify(name)} is not valid (letters, digits, _ . -)`);
  }
  return name;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Write-then-rename, so a crash never leaves half a record. */
async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID()}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await fs.rename(tmp, file);
}

/** `faults/<name>` holds a number N: the next N operations on <name> fail (each takes one). */
async function takeFault(name: string, what: string): Promise<void> {
  const file = path.join(demoDir(), "faults", name);
  const pending = Number((await fs.readFile(file, "utf8").catch(() => "0")).trim()) || 0;
  if (pending <= 0) return;
  await fs.writeFile(file, `${pending - 1}\n`);
  throw new Error(`${what} ${name} failed (injected fault; ${pending - 1} more to come)`);
}

/** Waits (interruptibly) until `upAt` or at most `maxMs`, then returns the VM's state then. */
async function waitUntil(vm: Vm, upAt: number, maxMs: number, ctx: ActivityContext): Promise<Vm> {
  const wait = Math.min(upAt - Date.now(), maxMs);
  if (wait > 0) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, wait);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error("interrupted: the job is stopping"));
      }, { once: true });
    });
  }
  return withState(vm);
}

function withState(vm: Vm): Vm {
  return { ...vm, state: Date.now() >= Date.parse(vm.bootedAt) ? "running" : "booting" };
}

/** Creates a VM; idempotent by name (a re-run after a crash gets the same VM back). */
export async function createVm(args: { name: string; size?: "small" | "medium" | "large" }, ctx: ActivityContext): Promise<Vm> {
  const name = safeName("VM", args.name);
  const size = args.size ?? "small";
  const spec = SIZES[size];
  if (!spec) throw new Error(`unknown VM size ${JSON.stringify(size)} (small, medium or large)`);
  const id = `vm-${name}`;
  const file = path.join(demoDir(), "vms", `${id}.json`);
  const existing = await readJson<Vm>(file);
  if (existing) {
    ctx.log(`${id} already exists (created ${existing.createdAt}); reusing it`);
    return withState(existing);
  }
  const now = Date.now();
  const digest = createHash("sha256").update(id).digest();
  const vm: Vm = {
    id,
    name,
    size,
    ...spec,
    ip: `10.${digest[0]}.${digest[1]}.${(digest[2] % 253) + 2}`,
    state: "booting",
    role: null,
    createdAt: new Date(now).toISOString(),
    bootedAt: new Date(now + bootMs()).toISOString(),
    configuredAt: null,
  };
  await writeJson(file, vm);
  ctx.log(`created ${id} (${size}, ${spec.cpus} cpu, ${spec.memoryMb} MB) at ${vm.ip}`);
  return vm;
}

/**
 * Renders and installs a role's configuration. Waits up to 5 s for the VM to finish booting,
 * then gives up (a `retry` with a delay tries again later). `faults/<id>` injects failures.
 */
export async function configureVm(args: { id: string; role: string }, ctx: ActivityContext): Promise<{ id: string; role: string; packages: string[]; configuredAt: string }> {
  const id = safeName("VM", args.id);
  const file = path.join(demoDir(), "vms", `${id}.json`);
  const stored = await readJson<Vm>(file);
  if (!stored) throw new Error(`no VM ${id}`);
  await takeFault(id, "configuration of");
  const vm = await waitUntil(withState(stored), Date.parse(stored.bootedAt), 5000, ctx);
  if (vm.state !== "running") throw new Error(`${id} is still booting (up at ${vm.bootedAt}); try again shortly`);
  const packages = args.role === "web" ? ["nginx", "certbot"] : args.role === "db" ? ["postgresql-16", "pgbackrest"] : ["node-exporter"];
  const conf = [`# ${id}: role ${args.role}`, `hostname = ${vm.name}`, `address = ${vm.ip}`, `packages = ${packages.join(", ")}`, ""].join("\n");
  await fs.writeFile(path.join(demoDir(), "vms", `${id}.conf`), conf);
  const configuredAt = new Date().toISOString();
  await writeJson(file, { ...stored, role: args.role, configuredAt });
  ctx.log(`configured ${id} as ${args.role} (attempt ${ctx.attempt})`);
  return { id, role: args.role, packages, configuredAt };
}

/** Restarts a fleet host: it is down for the boot time. `faults/<host>` makes restarts fail. */
export async function restartHost(args: { host: string }, ctx: ActivityContext): Promise<{ host: string; bootCount: number; upAt: string }> {
  const host = safeName("host", args.host);
  await takeFault(host, "restart of");
  const file = path.join(demoDir(), "hosts", `${host}.json`);
  const prior = await readJson<{ bootCount: number }>(file);
  const record = { host, bootCount: (prior?.bootCount ?? 0) + 1, restartedAt: new Date().toISOString(), upAt: new Date(Date.now() + bootMs()).toISOString() };
  await writeJson(file, record);
  ctx.log(`restarting ${host} (boot #${record.bootCount})`);
  return { host, bootCount: record.bootCount, upAt: record.upAt };
}

/**
 * Waits up to `timeout` ms (default 10 s) for a VM or host to be up, then reports. A VM must
 * also be configured. An unknown host is unhealthy, not an error.
 */
export async function healthCheck(args: { host: string; timeout?: number }, ctx: ActivityContext): Promise<Health> {
  const host = safeName("host", args.host);
  const deadline = Date.now() + (args.timeout ?? 10_000);
  const report = (healthy: boolean, detail: string): Health => ({ host, healthy, detail, checkedAt: new Date().toISOString() });
  for (;;) {
    const vm = await readJson<Vm>(path.join(demoDir(), "vms", `${host}.json`));
    const fleet = vm ? undefined : await readJson<{ upAt: string }>(path.join(demoDir(), "hosts", `${host}.json`));
    if (!vm && !fleet) return report(false, `unknown host ${host}`);
    const upAt = Date.parse(vm ? vm.bootedAt : fleet!.upAt);
    if (Date.now() >= upAt) {
      if (vm && !vm.configuredAt) return report(false, `${host} is up but not configured`);
      return report(true, vm ? `${host} is running as ${vm.role} at ${vm.ip}` : `${host} is up`);
    }
    if (Date.now() + 100 > deadline) return report(false, `${host} is still booting`);
    if (ctx.signal.aborted) throw new Error("health check interrupted: the job is stopping");
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, upAt - Date.now() + 1)));
  }
}

/** Dumps a database to a gzip file with a SHA-256 sidecar. Seeds demo rows on first use. */
export async function backupDatabase(args: { database: string }, ctx: ActivityContext): Promise<Backup> {
  const db = safeName("database", args.database);
  const source = path.join(demoDir(), "databases", `${db}.jsonl`);
  let text = await fs.readFile(source, "utf8").catch(() => undefined);
  if (text === undefined) {
    const rows = Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: i + 1, database: db, value: createHash("md5").update(`${db}${i}`).digest("hex") }));
    text = `${rows.join("\n")}\n`;
    await fs.mkdir(path.dirname(source), { recursive: true });
    await fs.writeFile(source, text);
    ctx.log(`seeded ${db} with 100 rows`);
  }
  const takenAt = new Date().toISOString();
  const gz = gzipSync(text);
  const sha256 = createHash("sha256").update(gz).digest("hex");
  const dir = path.join(demoDir(), "backups", db);
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${db}-${takenAt.replace(/[:.]/g, "-")}.jsonl.gz`);
  await fs.writeFile(file, gz);
  await fs.writeFile(`${file}.sha256`, `${sha256}\n`);
  const rows = text.split("\n").filter((l) => l !== "").length;
  ctx.log(`backed up ${db}: ${rows} rows, ${gz.length} bytes`);
  return { database: db, path: file, bytes: gz.length, rows, sha256, takenAt };
}

/** Checks a backup's checksum and that every row reads back. */
export async function verifyBackup(args: { path: string }): Promise<{ ok: boolean; detail: string; rows: number }> {
  const file = path.resolve(args.path);
  if (!file.startsWith(path.join(demoDir(), "backups") + path.sep)) {
    return { ok: false, detail: `${args.path} is not a backup of this demo`, rows: 0 };
  }
  const gz = await fs.readFile(file).catch(() => undefined);
  if (!gz) return { ok: false, detail: `${args.path} does not exist`, rows: 0 };
  const want = (await fs.readFile(`${file}.sha256`, "utf8").catch(() => "")).trim();
  const got = createHash("sha256").update(gz).digest("hex");
  if (want !== got) return { ok: false, detail: `checksum mismatch (expected ${want || "a .sha256 file"}, got ${got})`, rows: 0 };
  let lines: string[];
  try {
    lines = gunzipSync(gz).toString("utf8").split("\n").filter((l) => l !== "");
    lines.forEach((l) => JSON.parse(l));
  } catch (err) {
    return { ok: false, detail: `unreadable: ${(err as Error).message}`, rows: 0 };
  }
  return { ok: true, detail: `${lines.length} rows, checksum ${got.slice(0, 12)}`, rows: lines.length };
}

/** Deletes all but the newest `keep` backups of a database; returns how many were deleted. */
export async function pruneBackups(args: { database: string; keep: number }, ctx: ActivityContext): Promise<number> {
  const db = safeName("database", args.database);
  if (!Number.isInteger(args.keep) || args.keep < 0) throw new Error(`keep must be a whole number >= 0, got ${args.keep}`);
  const dir = path.join(demoDir(), "backups", db);
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".jsonl.gz")).sort();
  const old = names.slice(0, Math.max(0, names.length - args.keep));
  for (const n of old) {
    await fs.rm(path.join(dir, n), { force: true });
    await fs.rm(path.join(dir, `${n}.sha256`), { force: true });
  }
  if (old.length > 0) ctx.log(`pruned ${old.length} backups of ${db}, kept ${names.length - old.length}`);
  return old.length;
}
