// Job commands: `publish`, `start`, `jobs`, `job`, `output`, `suspend|resume|stop`, `signal`.
// Each parses, calls the runtime, prints; the SQL lives in runtime/sql/.
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import type { ErrorRecord, Json } from "../runtime/abi.js";
import { openDb, type Db } from "../runtime/db/connect.js";
import { withTransaction } from "../runtime/db/tx.js";
import { bundleProject, publishBundles, type Bundle, type BundleOptions } from "../runtime/publish.js";
import { FINISHED, JOB_STATUSES, type JobRow, type JobStatus, type StreamRow } from "../runtime/rows.js";
import { ControlRefused, controlJob, sendSignal, type ControlVerb } from "../runtime/sql/control.js";
import { getJob, insertJobs } from "../runtime/sql/enqueue.js";
import { jobHistory, jobsWithPrefix, listJobs, streamsAfter } from "../runtime/sql/inspect.js";
import { currentVersion, publishedNames } from "../runtime/sql/versions.js";
import { listWorkers } from "../runtime/sql/workers.js";
import { CliError, refuseInput } from "./errors.js";
import { humanDuration, relativeTime } from "./human-time.js";
import { parseJobParams } from "./params.js";
import { followJob, recordText, writeRecord } from "./run.js";

// ---------------------------------------------------------------------------------------------
// publish

/**
 * Checks and compiles the runbooks at `paths` and bundles them for publishing. Diagnostics go to
 * stderr; a project with errors is refused (exit 1) before anything is stored.
 */
export async function compileBundles(paths: string[], options: BundleOptions = {}): Promise<{ bundles: Bundle[]; files: Map<string, string> }> {
  // The compiler (ts-morph) takes a second to load: only the commands that compile load it.
  const [{ compile }, { formatDiagnostics }] = await Promise.all([import("../compiler/index.js"), import("../compiler/report.js")]);
  const { program: project, modules, inputError } = compile({ paths });
  refuseInput(inputError);
  const printed = formatDiagnostics(project.diagnostics, project.sources, "text");
  if (printed) process.stderr.write(printed.endsWith("\n") ? printed : `${printed}\n`);
  if (project.diagnostics.some((d) => d.severity === "error")) throw new CliError("nothing was published: fix the errors above", 1);
  if (project.runbooks.size === 0) throw new CliError(`no runbooks found in ${paths.join(", ")}`, 1);
  const files = new Map([...project.runbooks.values()].map((rb) => [path.resolve(rb.file), rb.signature.name]));
  return { bundles: await bundleProject(modules, options), files };
}

export async function publish(paths: string[], opts: { runChangedActivities?: boolean; json?: boolean } = {}): Promise<void> {
  const { bundles } = await compileBundles(paths, { activityDrift: opts.runChangedActivities ? "run" : "refuse" });
  await withDb(async (db) => {
    const published = await publishBundles(db, bundles);
    if (opts.json) {
      printJson(published.map((p) => ({ runbook: p.runbook, result: p.result, hash: p.hash })));
      return;
    }
    for (const p of published) {
      const what = p.result === "unchanged" ? "unchanged" : p.result === "new" ? "published" : "new version";
      process.stdout.write(`${p.runbook}: ${what} ${p.hash.slice(0, 12)}\n`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// start

export interface StartOptions {
  param: string[];
  id?: string;
  wait?: boolean;
  json?: boolean;
}

export async function start(name: string, opts: StartOptions): Promise<void> {
  // --wait prints the job's streams as text as they come: no single JSON document to print.
  if (opts.json && opts.wait) throw new CliError("--json and --wait do not combine: start with --json, then `runbook output ID --follow --json`", 2);
  await withDb(async (db) => {
    const id = await startJob(db, name, opts.param, opts.id);
    process.stdout.write(opts.json ? `${JSON.stringify({ id })}\n` : `${id}\n`);
    if (opts.wait) await followToExit(db, id);
  });
}

/** Validates the parameters, then queues the job (idempotent with `key`); returns its id. */
export async function startJob(db: Db, name: string, flags: string[], key?: string): Promise<string> {
  const version = await currentVersion(db.pool, name);
  if (!version) throw new CliError(`no published runbook ${name}${await suggest(await publishedNames(db.pool), name)}`, 1);
  const params = parseJobParams(name, version.params, flags);
  const id = key ?? randomUUID();
  const inserted = await insertJobs(db.pool, [{ id, runbook: name, version: version.hash, params }], `started by ${process.env.USER ?? "an operator"}`);
  if (inserted.length === 0) {
    const existing = await getJob(db.pool, id);
    if (existing && existing.runbook !== name) throw new CliError(`job ${id} already exists and runs ${existing.runbook}, not ${name}`, 1);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// jobs, job, output

/** Jobs `runbook jobs` lists when given no --limit: the newest screenfuls, not a whole history. */
export const DEFAULT_JOBS_LIMIT = 100;

export async function jobs(opts: { status?: string; json?: boolean; limit?: string }): Promise<void> {
  if (opts.status && !JOB_STATUSES.includes(opts.status as JobStatus)) {
    throw new CliError(`unknown status ${opts.status}: use one of ${JOB_STATUSES.join(", ")}`, 2);
  }
  const limit = opts.limit === undefined ? DEFAULT_JOBS_LIMIT : Number(opts.limit);
  if (!/^\d+$/.test(opts.limit ?? "1") || !Number.isSafeInteger(limit) || limit < 1) {
    throw new CliError(`--limit ${opts.limit} is not a whole number of jobs (1 or more)`, 2);
  }
  await withDb(async (db) => {
    // One row more than shown tells whether there are more.
    const rows = await listJobs(db.pool, opts.status as JobStatus | undefined, limit + 1);
    if (rows.length > limit) {
      rows.length = limit;
      process.stderr.write(`runbook: showing the newest ${limit} jobs; there are more (--limit N shows more)\n`);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(opts.status ? `no ${opts.status} jobs\n` : "no jobs\n");
      return;
    }
    printTable(
      ["ID", "RUNBOOK", "STATUS", "WORKER", "CHECKPOINT", "UPDATED"],
      rows.map((j) => [j.id, j.runbook, j.status, j.worker ?? "-", j.checkpoint_label ?? (j.checkpoint_at ? "(unlabelled)" : "-"), relativeTime(j.updated_at)]),
    );
  });
}

export async function job(id: string, opts: { json?: boolean }): Promise<void> {
  await withDb(async (db) => {
    const j = await mustGetJob(db, id);
    const [streams, history] = await Promise.all([streamsAfter(db.pool, id), jobHistory(db.pool, id)]);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ job: j, streams, history }, null, 2)}\n`);
      return;
    }
    const line = (k: string, v: string) => process.stdout.write(`${`${k}:`.padEnd(12)}${v}\n`);
    line("job", j.id);
    line("runbook", `${j.runbook} (version ${j.version.slice(0, 12)})`);
    line("status", j.status + (j.control ? ` (${j.control} requested)` : "") + parkedOn(j));
    line("slot", String(j.slot));
    line("worker", j.worker ?? "-");
    line("created", `${j.created_at.toISOString()} (${relativeTime(j.created_at)})`);
    if (j.finished_at) line("took", humanDuration(j.finished_at.getTime() - j.created_at.getTime()));
    line("checkpoint", j.checkpoint_at ? `${j.checkpoint_label ?? "(unlabelled)"} at ${j.checkpoint_at.toISOString()}, ${relativeTime(j.checkpoint_at)} (${j.checkpoints} in all)` : "none yet");
    if (j.parent_id) line("parent", j.parent_id);
    line("params", JSON.stringify(j.params));
    if (j.status === "completed") line("result", JSON.stringify(j.result));
    if (j.error) line("error", errorLine(j.error));
    process.stdout.write(`streams (${streams.length}):\n`);
    for (const r of streams) process.stdout.write(`  ${r.seq} ${r.stream}: ${recordText(r.value)}\n`);
    process.stdout.write("history:\n");
    for (const h of history) {
      process.stdout.write(`  ${h.at.toISOString()} ${h.from_status ?? "-"} -> ${h.to_status}${h.worker ? ` on ${h.worker}` : ""}: ${h.reason}\n`);
    }
  });
}

/**
 * `runbook output ID [--follow] [--json]`. With --json, every record of every stream goes to
 * stdout as one JSON line `{"seq","stream","value","at"}` (JSON lines, so --follow can print as
 * records come and `| head` or `jq` can read them one by one).
 */
export async function output(id: string, opts: { follow?: boolean; json?: boolean }): Promise<void> {
  await withDb(async (db) => {
    await mustGetJob(db, id);
    const write = opts.json ? writeRecordJson : writeRecord;
    if (opts.follow) {
      await followToExit(db, id, write);
      return;
    }
    for (const r of await streamsAfter(db.pool, id)) write(r);
  });
}

// ---------------------------------------------------------------------------------------------
// suspend, resume, stop, signal

export async function control(verb: ControlVerb, id: string): Promise<void> {
  await withDb(async (db) => {
    try {
      const r = await withTransaction(db.pool, (client) => controlJob(client, id, verb, process.env.USER ? `operator ${process.env.USER}` : "an operator"));
      process.stdout.write(`job ${id}: ${r.outcome}\n`);
    } catch (e) {
      if (e instanceof ControlRefused) throw new CliError(e.message + (await suggestJob(db, id, e.message)), 1);
      throw e;
    }
  });
}

export async function signal(id: string, name: string, json: string): Promise<void> {
  let payload: Json;
  try {
    payload = JSON.parse(json) as Json;
  } catch {
    throw new CliError(`the signal payload ${JSON.stringify(json)} is not JSON (quote strings: '"text"')`, 2);
  }
  await withDb(async (db) => {
    try {
      const r = await withTransaction(db.pool, (client) => sendSignal(client, id, name, payload));
      process.stdout.write(r.woke ? `job ${id}: signal ${name} delivered; the job is queued to continue\n` : `job ${id} (${r.status}): signal ${name} kept in its mailbox for its next wait "${name}"\n`);
    } catch (e) {
      if (e instanceof ControlRefused) throw new CliError(e.message + (await suggestJob(db, id, e.message)), 1);
      throw e;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// helpers

export async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb({ max: 2 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Follows a job to its end like `run`; exit code 1 unless it completed. */
async function followToExit(db: Db, id: string, write?: (r: StreamRow) => void): Promise<void> {
  const job = await getJob(db.pool, id);
  if (job && !FINISHED.includes(job.status) && !(await listWorkers(db.pool)).some((w) => w.alive)) {
    process.stderr.write(`runbook: no worker is running: job ${id} waits until one starts (runbook worker)\n`);
  }
  const end = await followJob(db, id, undefined, write);
  if (end && end.status !== "completed") process.exitCode = 1;
}

async function mustGetJob(db: Db, id: string): Promise<JobRow> {
  const j = await getJob(db.pool, id);
  if (!j) throw new CliError(`no job ${id}${await suggestJob(db, id, `no job ${id}`)}`, 1);
  return j;
}

async function suggestJob(db: Db, id: string, message: string): Promise<string> {
  if (!message.startsWith("no job")) return "";
  const like = await jobsWithPrefix(db.pool, id.slice(0, Math.max(4, Math.floor(id.length / 2))));
  return like.length ? ` (did you mean ${like.join(", ")}?)` : "";
}

async function suggest(names: string[], name: string): Promise<string> {
  if (names.length === 0) return " (nothing is published yet: run `runbook publish PATH` or `runbook run FILE`)";
  const close = names.filter((n) => editDistance(n.toLowerCase(), name.toLowerCase()) <= Math.max(1, Math.floor(name.length / 4)));
  return close.length ? ` (did you mean ${close.join(", ")}?)` : ` (published: ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", ..." : ""})`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

function parkedOn(j: JobRow): string {
  if (j.status === "waiting" && j.wait_signal) return `, for signal ${j.wait_signal}${j.wait_until ? ` until ${j.wait_until.toISOString()} (${relativeTime(j.wait_until)})` : ""}`;
  if (j.status === "waiting" && j.await_job) return `, for job ${j.await_job}`;
  if (j.status === "sleeping" && j.wait_until) return `, until ${j.wait_until.toISOString()} (${relativeTime(j.wait_until)})`;
  return "";
}

export function errorLine(e: ErrorRecord): string {
  return e.file ? `${e.file}:${e.line}:${e.column}: ${e.message}` : e.message;
}

function writeRecordJson(r: StreamRow): void {
  process.stdout.write(`${JSON.stringify({ seq: r.seq, stream: r.stream, value: r.value, at: r.at })}\n`);
}

/** One JSON document on stdout, as every `--json` prints. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")}\n`);
}
