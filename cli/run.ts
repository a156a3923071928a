// `runbook run FILE|NAME [--param k=v]...`: publish (when given a file), start the job, run it
// with a worker inside this process on the configured (or embedded) database, and print its
// streams as they are committed: the output stream on stdout, one record per line (strings as
// they are, other values as JSON), the others on stderr, as `runbook test` does. Exit 0 when the
// job completes, 1 when it fails or is stopped.
//
// Ctrl-C stops following: the in-process worker hands the job over at its next checkpoint (or
// releases it from its latest one), and any `runbook worker` continues it.
import { existsSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Json, StreamName } from "../runtime/abi.js";
import { openDb, type Db } from "../runtime/db/connect.js";
import { Follower } from "../runtime/follow.js";
import { publishBundles } from "../runtime/publish.js";
import type { JobRow, StreamRow } from "../runtime/rows.js";
import { Worker } from "../runtime/worker.js";
import { CliError } from "./errors.js";
import { compileBundles, errorLine, startJob } from "./jobs.js";

export interface RunOptions {
  param: string[];
}

export async function run(target: string, opts: RunOptions): Promise<void> {
  const looksLikeFile = target.endsWith(".runbook") || target.includes("/") || target.includes(path.sep);
  let name = target;
  let bundle;
  if (looksLikeFile) {
    if (!existsSync(target) || !statSync(target).isFile()) throw new CliError(`no such file: ${target}`, 2);
    const { bundles, files } = await compileBundles([path.dirname(target)]);
    const declared = files.get(path.resolve(target));
    if (!declared) throw new CliError(`${target} declares no runbook`, 1);
    name = declared;
    bundle = bundles.find((b) => b.runbook === declared);
  }
  const db = await openDb({ max: 5 });
  let worker: Worker | undefined;
  try {
    if (bundle) await publishBundles(db, [bundle]);
    const id = await startJob(db, name, opts.param);
    process.stderr.write(`job ${id}\n`);
    const follower = new Follower();
    worker = await Worker.start(db, {
      name: `run-${os.hostname()}-${process.pid}`,
      concurrency: 4,
      // A running fleet keeps its slots: this worker joins only when no other worker is alive.
      joinOnlyIfAlone: true,
      onCommit: (jobId) => jobId === id && follower.poke(),
      log: (line) => process.stderr.write(`runbook: ${line}\n`),
    });
    const end = await followJob(db, id, follower);
    if (!end) {
      process.stderr.write(`runbook: stopped following job ${id}; it continues on any \`runbook worker\`\n`);
      process.exitCode = 130;
    } else if (end.status !== "completed") {
      process.exitCode = 1;
    }
  } finally {
    await worker?.stop({ graceMs: 10_000 });
    await db.close();
  }
}

/**
 * Prints a job's streams until it ends (or Ctrl-C); notes on stderr when it waits on an
 * operator. Returns the final row, or null when interrupted.
 */
export async function followJob(db: Db, id: string, follower = new Follower(), write: (r: StreamRow) => void = writeRecord): Promise<JobRow | null> {
  let onSigint: (() => void) | undefined;
  const interrupted = new Promise<void>((resolve) => {
    onSigint = resolve;
    process.once("SIGINT", onSigint);
  });
  try {
    const end = await follower.follow(db.pool, id, {
      onRecord: (r) => write(r),
      onStatus: (job) => {
        const note = statusNote(job);
        if (note) process.stderr.write(`runbook: ${note}\n`);
      },
      until: interrupted,
    });
    if (end?.status === "failed" && end.error) process.stderr.write(`runbook: job ${id} failed: ${errorLine(end.error)}\n`);
    if (end?.status === "stopped") process.stderr.write(`runbook: job ${id} was stopped\n`);
    return end;
  } finally {
    if (onSigint) process.removeListener("SIGINT", onSigint);
  }
}

function statusNote(job: JobRow): string | null {
  if (job.status === "waiting" && job.wait_signal) {
    return `job ${job.id} waits for signal ${job.wait_signal}: runbook signal ${job.id} ${job.wait_signal} 'JSON'`;
  }
  if (job.status === "suspended") return `job ${job.id} is suspended: runbook resume ${job.id}`;
  return null;
}

const PREFIX: Record<StreamName, string> = { output: "", log: "log: ", warn: "warning: ", error: "error: " };

/** Strings as they are, everything else as JSON. */
export function recordText(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function writeRecord(r: { stream: StreamName | string; value: Json }): void {
  if (r.stream === "output") process.stdout.write(`${recordText(r.value)}\n`);
  else process.stderr.write(`${PREFIX[r.stream as StreamName] ?? `${r.stream}: `}${recordText(r.value)}\n`);
}
