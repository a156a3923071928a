// Compile-time figures for the back end (issue 3's goals on this machine: the runbooks/ folder
// in under 2 s cold, a 5,000-line runbook in under 5 s).
//   npx tsx bench/compile.ts [--runs N]
// - cold: `node bin/runbook.js compile runbooks --out TMP` in a fresh process each run, wall
//   time including Node start-up and loading the compiler through tsx: what an author waits for.
//   Twice: with the activity declaration cache (compiler/activity-cache.ts) empty before every
//   run (a first compile, or one after `use` modules changed), and warm (it holds the modules:
//   the usual compile). tsx's own transform cache is warm in both, as after any first run.
// - 5,000 lines: a generated runbook with a checkpoint, if/else, for and try/catch every ~15
//   lines, compiled in this process (after one warm-up run): front end (parse + check) and back
//   end (lower, build, liveness, emit, transpile) timed apart.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compileProject } from "../compiler/compile.js";
import { checkSources } from "../compiler/program.js";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function ms(n: number): string {
  return `${n.toFixed(0)} ms`;
}

/** A runbook of about `lines` lines that exercises every construct the lowering splits. */
export function generateRunbook(lines: number): string {
  const out = ["runbook big(n: number = 3) -> number {", "  let acc = 0"];
  for (let k = 0; out.length < lines - 2; k++) {
    out.push(
      `  let v${k} = acc + ${k}`,
      `  if v${k} % 3 == 0 {`,
      `    checkpoint "c${k}"`,
      `    acc += 1`,
      `  } else {`,
      `    acc += v${k} % 7`,
      `  }`,
      `  for x${k} in 1..n {`,
      `    try {`,
      `      acc += x${k}`,
      `      if acc < 0 { fail "negative" }`,
      `    } catch e${k} {`,
      `      warn e${k}.message`,
      `    }`,
      `  }`,
    );
  }
  out.push("  return acc", "}");
  return out.join("\n") + "\n";
}

/** Makes the child print its own CPU time (user + system) on exit: wall time on a shared
 * 2-core machine mostly measures the other processes. */
const CPU_REPORT = `data:text/javascript,process.on("exit",()=>{const u=process.cpuUsage();process.stderr.write("CPU "+(u.user+u.system)/1000+"\\n")})`;

function coldFolder(cache: "empty" | "warm"): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-bench-"));
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-bench-cache-"));
  const env = { ...process.env, RUNBOOK_CACHE_DIR: cacheDir };
  const compile = () => spawnSync(process.execPath, ["--import", CPU_REPORT, "bin/runbook.js", "compile", "runbooks", "--out", out], { encoding: "utf8", env });
  try {
    if (cache === "warm") compile();
    for (let i = 0; i < runs; i++) {
      fs.rmSync(out, { recursive: true, force: true });
      if (cache === "empty") fs.rmSync(cacheDir, { recursive: true, force: true });
      const t0 = performance.now();
      const r = compile();
      wall.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`runbook compile failed: ${r.stderr}`);
      cpu.push(Number(/CPU ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN));
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  return { wall, cpu };
}

function bigRunbook(text: string): { front: number[]; back: number[]; total: number[]; cpu: number[] } {
  const front: number[] = [];
  const back: number[] = [];
  const total: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const project = checkSources([{ file: "big.runbook", text }]);
    const t1 = performance.now();
    if (project.diagnostics.some((d) => d.severity === "error")) throw new Error(`the generated runbook has errors: ${project.diagnostics[0].message}`);
    const modules = compileProject(project);
    const t2 = performance.now();
    if (modules[0].ts.length === 0) throw new Error("nothing emitted");
    const used = process.cpuUsage(c0);
    if (i === 0) continue; // warm-up
    front.push(t1 - t0);
    back.push(t2 - t1);
    total.push(t2 - t0);
    cpu.push((used.user + used.system) / 1000);
  }
  return { front, back, total, cpu };
}

console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} on ${os.cpus().length} cores`);
const files = fs.readdirSync("runbooks").filter((f) => f.endsWith(".runbook")).length;
for (const cache of ["empty", "warm"] as const) {
  const folder = coldFolder(cache);
  console.log(
    `runbooks/ (${files} runbooks), cold, fresh process per run, declaration cache ${cache}: median ${ms(median(folder.wall))} wall, ${ms(median(folder.cpu))} CPU (goal < 2000 ms; wall runs: ${folder.wall.map(ms).join(", ")})`,
  );
}

const text = generateRunbook(5000);
const big = bigRunbook(text);
const lineCount = text.split("\n").length - 1;
console.log(
  `generated ${lineCount}-line runbook, in process: median ${ms(median(big.total))} wall, ${ms(median(big.cpu))} CPU (goal < 5000 ms): front end ${ms(median(big.front))}, back end ${ms(median(big.back))}`,
);
