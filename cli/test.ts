// `runbook test FILE [--param k=v]... [--signal NAME=JSON]... [fakes]`: compiles the runbook's
// folder as a project, runs the runbook in memory straight through, then interrupted at every
// suspension point, then re-run from the previous checkpoint just before each checkpoint, and
// checks that all three give the same streams and result (runtime/memory.ts). Activities run
// in the straight run; the interrupted runs replay their answers and must make the same calls.
// The fakes (--asset, --secret, --mock, --fixtures, --offline: cli/test-fakes.ts) answer
// activities instead of the world; `sql` gets a throw-away database (cli/test-database.ts).
//
// stdout: the straight run's output stream, one record per line (strings as they are, other
// values as JSON). stderr: the other streams, then a summary. Records of `parallel for`
// branches come among the job's, marked `[element] ` as `runbook output --follow` marks them.
// Fake secrets are masked in both.
// Exit 0 when the job completes and the runs agree; 1 when the project has errors, the job
// fails, the runs differ or the fakes could not answer a call; 2 for bad usage (a missing file,
// a bad --param, --signal or fake).
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { CheckedProject } from "../compiler/checked.js";
import { compile } from "../compiler/index.js";
import { formatDiagnostics } from "../compiler/report.js";
import type { CompiledRunbook, ErrorRecord, Json } from "../runtime/abi.js";
import { ActivityHost, type JobActivities } from "../runtime/activities.js";
import { programOf, runAllModes, type JobRun, type MemoryActivity, type MemoryRun, type ModeRuns, type Signal } from "../runtime/memory.js";
import { loadRunbook } from "../runtime/load.js";
import { maskSecrets } from "../runtime/builtins/asset.js";
import { CliError, refuseInput } from "./errors.js";
import { parseParams } from "./params.js";
import { recordLine } from "./print.js";
import { TestActivities, type CallCounts } from "./test-activities.js";
import { checkServerUrl, ThrowAwayDatabases } from "./test-database.js";
import { ProjectActivities, readFakes, type FakeFlags } from "./test-fakes.js";

export interface TestOptions extends FakeFlags {
  param: string[];
  signal: string[];
  /** The PostgreSQL server for the throw-away `sql` database (default: the project's). */
  database?: string;
}

export async function test(file: string, opts: TestOptions): Promise<void> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new CliError(`no such file: ${file}`, 2);
  if (!file.endsWith(".runbook")) throw new CliError(`${file} is not a .runbook file`, 2);
  const { program: project, modules, inputError } = compile({ paths: [path.dirname(file)] });
  refuseInput(inputError);
  const printed = formatDiagnostics(project.diagnostics, project.sources, "text");
  if (printed) process.stderr.write(printed.endsWith("\n") ? printed : `${printed}\n`);
  if (project.diagnostics.some((d) => d.severity === "error")) {
    process.exitCode = 1;
    return;
  }
  const target = [...project.runbooks.values()].find((rb) => path.resolve(rb.file) === path.resolve(file));
  if (!target) throw new CliError(`${file} declares no runbook`, 1);
  const params = parseParams(target, opts.param);
  const signals = opts.signal.map(parseSignal);
  const projectActivities = new ProjectActivities(project);
  const fakes = readFakes(opts, projectActivities);
  const badUrl = opts.database === undefined ? null : checkServerUrl(opts.database);
  if (badUrl) throw new CliError(badUrl, 2);

  const compiled: CompiledRunbook[] = [];
  for (const m of modules) compiled.push(await loadRunbook(m.js, `the compiled code of ${m.name}`));
  const name = target.signature.name;
  const stepBudgetMs = stepBudget();
  const databases = new ThrowAwayDatabases(opts.database);
  const activities = new TestActivities(fakes, projectActivities, databases, activityRunner(compiled));
  // Ctrl-C (or a kill) during the run still drops the throw-away database.
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`runbook test: ${signal}: stopping; dropping the throw-away database\n`);
    void databases.dispose().then(
      () => process.exit(130),
      (e: unknown) => (process.stderr.write(`runbook: ${(e as Error).message}\n`), process.exit(130)),
    );
  };
  process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
  // Made before the run when it can reach sql(): starting the embedded server inside a step
  // would count against the step's time budget. A failure is reported at the first sql() call.
  if (!fakes.mocks.has("sql") && reachesSql(project, name)) await databases.connection(undefined).catch(() => undefined);
  let modeRuns: ModeRuns;
  try {
    modeRuns = await runAllModes(programOf(compiled), name, params, { signals, activity: activities.activity, stepBudgetMs });
  } finally {
    process.off("SIGINT", interrupted).off("SIGTERM", interrupted);
    await databases.dispose().catch((e: unknown) => activities.problems.push((e as Error).message));
  }

  const out = report(name, modeRuns, { problems: activities.problems, counts: activities.counts, secrets: [...activities.secretTexts] });
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  if (out.exitCode !== 0) process.exitCode = out.exitCode;
}

/** Can a run of `runbook` reach a `sql()` call (in it, or in a runbook it calls or starts)? */
function reachesSql(project: CheckedProject, runbook: string): boolean {
  const seen = new Set<string>();
  for (const todo = [runbook]; todo.length > 0; ) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const call of project.runbooks.get(name)?.calls.values() ?? []) {
      if (call.kind === "activity" && call.module === "" && call.fn === "sql") return true;
      if (call.kind === "runbook") todo.push(call.callee);
    }
  }
  return false;
}

/**
 * How long a step may run without a suspension point before the test fails it as an endless
 * loop: RUNBOOK_STEP_BUDGET_MS, else the executor's default (10 s).
 */
function stepBudget(): number | undefined {
  const text = process.env.RUNBOOK_STEP_BUDGET_MS;
  if (text === undefined || text === "") return undefined;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new CliError(`RUNBOOK_STEP_BUDGET_MS must be a positive number of milliseconds, not ${JSON.stringify(text)}`, 2);
  return ms;
}

/**
 * Activities run for real (use modules, exec and http; cli/test-activities.ts answers `sql`,
 * `asset` and mocked calls before they get here) in the straight run only; the interrupted runs replay its answers (runtime/memory.ts),
 * so a test creates each VM once and compares the runbook's behaviour, not the world's.
 */
export function activityRunner(runbooks: CompiledRunbook[]): MemoryActivity {
  const host = new ActivityHost({ baseDir: process.cwd() });
  const jobs = new Map<string, { acts: Promise<JobActivities>; log: (message: string) => void }>();
  return async (module, fn, args, call) => {
    let job = jobs.get(call.job);
    if (!job) {
      const entry = { acts: undefined as unknown as Promise<JobActivities>, log: call.log };
      entry.acts = host.forJob({ jobId: call.job, log: (m) => entry.log(m), runbooks });
      jobs.set(call.job, (job = entry));
    }
    job.log = call.log;
    return (await job.acts).activity(module, fn, args, call.caller, call.attempt);
  };
}

// ---------------------------------------------------------------------------------------------
// Output

export interface Report {
  stdout: string;
  stderr: string;
  exitCode: 0 | 1;
}

/** What the fakes add to a report (cli/test-activities.ts). */
export interface FakesReport {
  /** Calls the fakes could not answer as asked: each fails the test. */
  problems?: string[];
  counts?: CallCounts;
  /** Texts of fake secrets: masked as `***` everywhere in the report. */
  secrets?: string[];
}

/**
 * What `runbook test` prints for its runs: the straight run's output stream on stdout, its other
 * streams and the summary on stderr, then the first divergence and the fakes' problems. Exit 1
 * when the job failed, the runs differ or the fakes could not answer a call.
 */
export function report(name: string, { runs, divergence }: ModeRuns, fakes: FakesReport = {}): Report {
  const straight = runs.straight;
  const problems = fakes.problems ?? [];
  let stdout = "";
  let stderr = "";
  // The job's records and its branches', as `runbook output --follow` prints a real job's.
  for (const r of straight.followed) {
    const { to, line } = recordLine(r);
    if (to === "stdout") stdout += `${line}\n`;
    else stderr += `${line}\n`;
  }
  stderr += summary(name, runs, fakes.counts);
  if (divergence) stderr += `runbook test: ${divergence}\n`;
  // A problem that failed the job was printed as its error already.
  const failedWith = straight.ending.kind === "failed" ? straight.ending.error.message : null;
  for (const p of problems) if (failedWith !== `runbook test: ${p}`) stderr += `runbook test: ${p}\n`;
  const secrets = fakes.secrets ?? [];
  return {
    stdout: String(maskSecrets(stdout, secrets)),
    stderr: String(maskSecrets(stderr, secrets)),
    exitCode: divergence || problems.length > 0 || straight.ending.kind === "failed" ? 1 : 0,
  };
}

/** `FILE:LINE:COL: error: MESSAGE`, as compile errors print. */
export function formatRunError(e: ErrorRecord): string {
  return e.file ? `${e.file}:${e.line}:${e.column}: error: ${e.message}` : `error: ${e.message}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function summary(name: string, runs: Record<"straight" | "every-suspension" | "before-checkpoint", MemoryRun>, counts?: CallCounts): string {
  const s = runs.straight;
  const lines: string[] = [];
  for (const note of s.notes) lines.push(`note: ${note}`);
  lines.push(s.ending.kind === "completed" ? `${name}: completed, result ${JSON.stringify(s.ending.result)}` : formatRunError(s.ending.error));
  lines.push(
    `  ${plural(s.suspensions, "suspension point")}; runs: ${runs.straight.runs} straight, ` +
      `${runs["every-suspension"].runs} interrupted at every suspension point, ` +
      `${runs["before-checkpoint"].runs} re-running each segment before its checkpoint`,
  );
  if (s.activityCalls.length > 0) {
    lines.push(`  ${plural(s.activityCalls.length, "activity call")} ran once${howAnswered(counts)}; the interrupted runs replayed ${s.activityCalls.length === 1 ? "its answer" : "their answers"}`);
  }
  if (s.children.length > 0) {
    const kids = s.children.map((c: JobRun) => `${c.id} ${c.runbook} ${c.ending.kind}`).join(", ");
    lines.push(`  ${plural(s.children.length, "child job")}: ${kids}`);
  }
  return `${lines.join("\n")}\n`;
}

/** ` (2 mocked, 1 faked, 1 live)`: the non-zero counts, or nothing when all ran live. */
function howAnswered(counts: CallCounts | undefined): string {
  if (!counts || counts.mocked + counts.faked + counts.refused === 0) return "";
  const parts = (["mocked", "faked", "live", "refused"] as const).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`);
  return ` (${parts.join(", ")})`;
}

// ---------------------------------------------------------------------------------------------
// --param and --signal

// The parser lives in cli/params.ts, shared with `runbook run` and `runbook start`.
export { parseDuration, parseParams, readParam } from "./params.js";

/** `--signal NAME=JSON` → a signal for the job's mailbox. */
export function parseSignal(flag: string): Signal {
  const eq = flag.indexOf("=");
  if (eq <= 0) throw new CliError(`--signal ${flag}: write it as NAME=JSON`, 2);
  const name = flag.slice(0, eq);
  try {
    return { name, value: JSON.parse(flag.slice(eq + 1)) as Json };
  } catch {
    throw new CliError(`--signal ${name}: the payload ${JSON.stringify(flag.slice(eq + 1))} is not JSON`, 2);
  }
}
