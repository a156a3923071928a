// Real `runbook worker` processes for the benchmarks, and the small helpers they share: start a
// worker against a database URL, kill it (its whole process group), wait for a condition, and
// hand-written compiled runbooks, so a benchmark needs no compiler.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { staleReason } from "../bin/build-state.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "bin", "runbook.js");

let buildChecked = false;
/**
 * Workers measured from a stale build would run the TypeScript sources through tsx instead
 * (bin/runbook.js): about a fifth more worker CPU per no-op job, measured once by mistake. So the
 * build is brought up to date before the first worker starts.
 */
function ensureBuild(): void {
  if (buildChecked) return;
  buildChecked = true;
  if (staleReason(ROOT) === null) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "build.js")], { cwd: ROOT, stdio: "inherit" });
  const still = staleReason(ROOT);
  if (r.status !== 0 || still !== null) throw new Error(`the build in dist/ is stale (${still}) and \`npm run build\` failed`);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => Promise<T | null | false | undefined>, timeoutMs = 60_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) if (c.pid) try { process.kill(-c.pid, "SIGKILL"); } catch { /* gone */ }
});

export interface Proc { child: ChildProcess; stderr: string; exited: Promise<void> }

/**
 * RB_WORKER_PROF=DIR: the benchmarks' worker processes write V8 CPU profiles into DIR (node
 * --cpu-prof, at a clean exit: they are stopped with SIGTERM then), the peers' into DIR/peer.
 */
export function profileArgs(sub = ""): string[] {
  const dir = process.env.RB_WORKER_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${path.join(dir, sub)}`] : [];
}

export async function startWorker(url: string, name: string, env: Record<string, string> = {}, args: string[] = []): Promise<Proc> {
  ensureBuild();
  const child = spawn(process.execPath, [...profileArgs(), BIN, "worker", "--name", name, ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, ...env },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  children.add(child);
  const p: Proc = { child, stderr: "", exited: new Promise((r) => child.on("exit", () => (children.delete(child), r()))) };
  child.stderr!.on("data", (d) => (p.stderr += d));
  await until(`worker ${name} to start`, async () => p.stderr.includes(`worker ${name} started`), 60_000);
  return p;
}

export async function kill(p: Proc, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  try {
    process.kill(-p.child.pid!, signal);
  } catch {
    return;
  }
  await p.exited;
}

/** A hand-written compiled runbook (what the back end emits): `body` is its step function's. */
export function module(name: string, body: string, uses: Record<string, string> = {}) {
  const js = `export const runbook = { name: ${JSON.stringify(name)}, file: "bench/${name}.runbook", params: [], returns: null,
    canSuspend: true, calls: [], uses: ${JSON.stringify(uses)}, live: {}, positions: { 0: [1, 1] },
    async step(frame, ctx, input) { const L = frame.locals; ${body} } };`;
  return { name, file: `bench/${name}.runbook`, js, params: [], calls: [], uses };
}

/** The 1, 5 and 15 minute load averages, for every figure a benchmark prints. */
export function loadAverage(): string {
  try {
    return fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}
