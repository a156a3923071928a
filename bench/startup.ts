// CLI start-up (issue 15's goal: `runbook --version` and `runbook jobs` under 150 ms median):
//   npx tsx bench/startup.ts [--runs N]      (or `npm run bench -- startup`, BENCH_RUNS=N)
// Each run is a fresh `node bin/runbook.js ...` process, timed from spawn to exit (wall), and
// its own CPU time (user + system, printed by the child on exit): wall time on a shared 2-core
// machine also measures everyone else, so the load average is printed with the figures.
// - `--version`: Node start-up, the bin's freshness check, commander, the command table;
// - `jobs`: the same plus the database driver, one connection and one query, on the embedded
//   PostgreSQL of a scratch project (started before the runs), or DATABASE_URL's server.
// Both from the compiled build (dist/, rebuilt first when stale: the path `npm ci` gives a
// user), and from the TypeScript sources through tsx (RUNBOOK_FROM_SOURCE=1) for comparison.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { staleReason } from "../bin/build-state.js";
import { option } from "./options.js";
import { percentile, report, summary } from "./report.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "bin", "runbook.js");
const GOAL_MS = 150;
const runs = option("runs", 21);
const sourceRuns = option("source-runs", 7);
const CPU_REPORT = `data:text/javascript,process.on("exit",()=>{const u=process.cpuUsage();process.stderr.write("\\nCPU "+(u.user+u.system)/1000+"\\n")})`;

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");

/** One `runbook ARGS` process: its wall and CPU milliseconds. Fails the bench if it fails. */
function once(args: string[], cwd: string, env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["--import", CPU_REPORT, BIN, ...args], { cwd, env, encoding: "utf8" });
  const wall = performance.now() - started;
  if (r.status !== 0) throw new Error(`runbook ${args.join(" ")} exited ${r.status}: ${r.stderr.trim().split("\n")[0]}`);
  const cpu = Number(/CPU ([\d.]+)/.exec(r.stderr)?.[1]);
  return { wall, cpu };
}

function measure(label: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, n: number): number {
  once(args, cwd, env); // warm the page cache
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < n; i++) {
    const { wall, cpu } = once(args, cwd, env);
    walls.push(wall);
    cpus.push(cpu);
  }
  const w = summary(walls);
  const c = summary(cpus);
  const f = (x: number) => x.toFixed(0);
  process.stdout.write(
    `  ${label.padEnd(28)} wall median ${f(w.median).padStart(4)} ms (p10 ${f(percentile(walls, 0.1))}, p90 ${f(percentile(walls, 0.9))}, ` +
      `min ${f(w.min)}, max ${f(w.max)}; ${n} runs)   CPU median ${f(c.median)} ms   load ${load()}\n`,
  );
  return w.median;
}

const stale = staleReason(ROOT);
if (stale !== null) {
  process.stdout.write(`dist/ is stale (${stale}): building it first\n`);
  const b = spawnSync(process.execPath, [path.join(ROOT, "bin", "build.js")], { stdio: "inherit" });
  if (b.status !== 0) process.exit(1);
}

const project = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-bench-startup-"));
const base: NodeJS.ProcessEnv = { ...process.env, RUNBOOK_FROM_SOURCE: "" };
const fromSource: NodeJS.ProcessEnv = { ...base, RUNBOOK_FROM_SOURCE: "1" };
process.stdout.write(`CLI start-up, ${os.cpus().length} cores, load average ${load()} at the start\n`);
try {
  once(["jobs"], project, base); // starts the scratch project's embedded database when needed
  const results: { name: string; args: string[] }[] = [
    { name: "--version", args: ["--version"] },
    { name: "jobs", args: ["jobs"] },
  ];
  for (const { name, args } of results) {
    const ours = measure(`${name} (dist/)`, args, project, base, runs);
    const peer = measure(`${name} (sources, tsx)`, args, project, fromSource, sourceRuns);
    const met = ours < GOAL_MS;
    process.stdout.write(`  ${name}: ${met ? "meets" : "MISSES"} the goal of a median under ${GOAL_MS} ms; ${(peer / ours).toFixed(1)}x faster than from the sources\n`);
    report({ name: `startup ${name}`, unit: "ms", ours, peer, peerName: "the TypeScript sources through tsx", ratio: peer / ours, goal: `< ${GOAL_MS} ms median`, met });
  }
} finally {
  if (!process.env.DATABASE_URL) spawnSync(process.execPath, [BIN, "db", "stop"], { cwd: project, env: base, stdio: "ignore" });
  fs.rmSync(project, { recursive: true, force: true });
}
process.stdout.write(`load average at the end ${load()}\n`);
