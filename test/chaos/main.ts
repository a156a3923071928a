// `npm run chaos -- --duration 60s --workers 4 --seed N`: a soak of real `runbook worker`
// processes through every fault (see docs/RELIABILITY.md). Prints the fault counts, failover
// times, violations, then one summary line; exits 1 on any violation.
import { Command } from "commander";
import { parseDuration } from "../../cli/params.js";
import type { Settings } from "./context.js";
import { FAULT_KINDS } from "./faults.js";
import { OPERATOR_KINDS } from "./operator.js";
import { formatReport } from "./report.js";
import { runSoak } from "./soak.js";

const program = new Command("chaos")
  .description("soak real runbook workers through every fault and check the runtime's promises")
  .option("--duration <d>", "how long faults are injected (at least one round of every kind runs, however short)", "60s")
  .option("--workers <n>", "worker processes", "4")
  .option("--seed <n>", "the seed of the fault schedule", String(Date.now() % 100_000))
  .option("--concurrency <n>", "jobs each worker runs at once", "8")
  .option("--active <n>", "jobs the load keeps active", "40")
  .option("--only <kinds>", "only these fault and operator kinds, comma-separated (e.g. \"kill -9,stop\")")
  .option("--keep", "keep the temp project folder and its database")
  .option("--quiet", "no progress lines on stderr");
program.parse();
const o = program.opts();

const int = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number of at least ${min}, not ${v}`);
  return n;
};
function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

const durationMs = parseDuration(o.duration) ?? fail(`--duration ${o.duration} is not a duration (write it like 60s or 30m)`);
const settings: Settings = {
  durationMs,
  workers: int("workers", o.workers, 1),
  seed: int("seed", o.seed, 0),
  concurrency: int("concurrency", o.concurrency, 1),
  active: int("active", o.active, 1),
  only: o.only === undefined ? undefined : onlyKinds(o.only),
  heartbeatMs: 500,
  timeoutMs: 3_000,
};
function onlyKinds(list: string): string[] {
  const kinds = list.split(",").map((k) => k.trim()).filter(Boolean);
  const known: readonly string[] = [...FAULT_KINDS, ...OPERATOR_KINDS];
  const unknown = kinds.filter((k) => !known.includes(k));
  if (unknown.length) fail(`--only: unknown kind ${unknown.map((k) => JSON.stringify(k)).join(", ")} (kinds: ${known.join(", ")})`);
  return kinds;
}

const started = Date.now();
const log = (line: string) => {
  if (!o.quiet) process.stderr.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
};
log(`seed ${settings.seed}, ${o.duration}, ${settings.workers} workers (heartbeat ${settings.heartbeatMs} ms, timeout ${settings.timeoutMs} ms)`);
try {
  const result = await runSoak(settings, log, { keep: o.keep });
  process.stdout.write(formatReport(settings, result));
  process.exit(result.report.total > 0 || result.missing.length > 0 ? 1 : 0);
} catch (e) {
  process.stderr.write(`chaos: the soak could not run: ${(e as Error).message}\n`);
  if (process.env.RUNBOOK_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(2);
}
