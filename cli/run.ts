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
import { openDb } from "../runtime/db/connect.js";
import { Follower } from "../runtime/follow.js";
import { Operator } from "../runtime/operator/index.js";
import { Worker } from "../runtime/worker.js";
import { compileBundles } from "./bundles.js";
import { CliError } from "./errors.js";
import { followJob } from "./follow.js";
import { printNote } from "./print.js";
import { cliActor } from "./session.js";

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
  const op = new Operator(db, cliActor());
  let worker: Worker | undefined;
  try {
    if (bundle) await op.publish([bundle]);
    const { id } = await op.start({ runbook: name, params: { flags: opts.param } });
    process.stderr.write(`job ${id}\n`);
    const follower = new Follower();
    worker = await Worker.start(db, {
      name: `run-${os.hostname()}-${process.pid}`,
      // The job's own group (its runbook may declare one): this worker is there to run it.
      group: (await op.jobRow(id)).worker_group,
      concurrency: 4,
      // A running fleet keeps its slots: this worker joins only when no other worker is alive.
      joinOnlyIfAlone: true,
      onCommit: (jobId) => jobId === id && follower.poke(),
      log: (line) => printNote(line),
    });
    const end = await followJob(op, id, follower);
    if (!end) {
      printNote(`stopped following job ${id}; it continues on any \`runbook worker\``);
      process.exitCode = 130;
    } else if (end.status !== "completed") {
      process.exitCode = 1;
    }
  } finally {
    await worker?.stop({ graceMs: 10_000 });
    await db.close();
  }
}
