// Runs the benchmarks one after another, each in its own process (so one's warm caches and
// database do not flatter the next), and lets each print its own figures.
//
//   npm run bench                 # all of them
//   npm run bench -- frontend     # only bench/frontend.ts (names without .ts, any number)
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ALL = ["frontend", "compile", "suspend", "activities", "runtime", "failover", "exactly-once"];
const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : ALL;

let failed = 0;
for (const name of names) {
  if (!ALL.includes(name)) {
    process.stderr.write(`bench: no benchmark "${name}" (have: ${ALL.join(", ")})\n`);
    process.exit(2);
  }
  process.stdout.write(`\n=== bench/${name}.ts\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(here, `${name}.ts`)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
