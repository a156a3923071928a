// Following a job from the terminal (`run`, `start --wait`, `output --follow`): its records as
// they are committed, notes on stderr when it waits on an operator, Ctrl-C to stop following.
import { Follower } from "../runtime/follow.js";
import type { Operator } from "../runtime/operator/index.js";
import { FINISHED, type JobRow, type StreamRow } from "../runtime/rows.js";
import { errorLine, printNote, printRecord } from "./print.js";

/** Prints a job's streams until it ends (or Ctrl-C). Returns the final row, or null when interrupted. */
export async function followJob(op: Operator, id: string, follower = new Follower(), write: (r: StreamRow) => void = printRecord): Promise<JobRow | null> {
  let onSigint: (() => void) | undefined;
  const interrupted = new Promise<void>((resolve) => {
    onSigint = resolve;
    process.once("SIGINT", onSigint);
  });
  try {
    const end = await op.follow(
      id,
      {
        onRecord: (r) => write(r),
        onStatus: (job) => {
          const note = statusNote(job);
          if (note) printNote(note);
        },
        until: interrupted,
      },
      follower,
    );
    if (end?.status === "failed" && end.error) printNote(`job ${id} failed: ${errorLine(end.error)}`);
    if (end?.status === "stopped") printNote(`job ${id} was stopped`);
    return end;
  } finally {
    if (onSigint) process.removeListener("SIGINT", onSigint);
  }
}

/** Follows a job to its end like `run`; exit code 1 unless it completed. */
export async function followToExit(op: Operator, id: string, write?: (r: StreamRow) => void): Promise<void> {
  const job = await op.jobRow(id);
  if (!FINISHED.includes(job.status) && !(await op.fleet()).workers.some((w) => w.alive)) {
    printNote(`no worker is running: job ${id} waits until one starts (runbook worker)`);
  }
  const end = await followJob(op, id, undefined, write);
  if (end && end.status !== "completed") process.exitCode = 1;
}

function statusNote(job: JobRow): string | null {
  if (job.status === "waiting" && job.wait_signal) {
    return `job ${job.id} waits for signal ${job.wait_signal}: runbook signal ${job.id} ${job.wait_signal} 'JSON'`;
  }
  if (job.status === "suspended") return `job ${job.id} is suspended: runbook resume ${job.id}`;
  return null;
}
