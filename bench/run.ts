// Runs the benchmarks one after another, each in its own process (so one's warm caches and
// database do not flatter the next), and lets each print its own figures.
//
//   npm run bench                 # all of them
//   npm run bench -- frontend     # only bench/frontend.ts (names without .ts, any number)
//   npm run bench -- --json F     # also writes every workload's figures to F (bench/report.ts)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ALL = ["startup", "frontend", "compile", "lsp", "suspend", "activities", "runtime", "failover", "exactly-once", "peers", "followers", "growth", "statements"];
const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
// --json FILE: every benchmark's workloads, as {"workloads": [...]} (bench/report.ts).
const jsonAt = argv.indexOf("--json");
const jsonFile = jsonAt >= 0 ? argv[jsonAt + 1] : null;
if (jsonAt >= 0 && !jsonFile) {
  process.stderr.write("bench: --json needs a file name\n");
  process.exit(2);
}
const wanted = jsonAt >= 0 ? argv.filter((_, i) => i !== jsonAt && i !== jsonAt + 1) : argv;
const names = wanted.length > 0 ? wanted : ALL;
for (const name of names) {
  if (!ALL.includes(name)) {
    process.stderr.write(`bench: no benchmark "${name}" (have: ${ALL.join(", ")})\n`);
    process.exit(2);
  }
}
const scratch = jsonFile ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "runbook-bench-")), "workloads.jsonl") : null;

let failed = 0;
for (const name of names) {
  process.stdout.write(`\n=== bench/${name}.ts\n`);
  const env = scratch ? { ...process.env, RUNBOOK_BENCH_JSON: scratch } : process.env;
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(here, `${name}.ts`)], { stdio: "inherit", env });
  if (r.status !== 0) failed++;
}
if (jsonFile && scratch) {
  const lines = fs.existsSync(scratch) ? fs.readFileSync(scratch, "utf8").split("\n").filter(Boolean) : [];
  fs.writeFileSync(jsonFile, `${JSON.stringify({ workloads: lines.map((l) => JSON.parse(l)) }, null, 2)}\n`);
  process.stdout.write(`\n${lines.length} workloads written to ${jsonFile}\n`);
}
process.exitCode = failed > 0 ? 1 : 0;
