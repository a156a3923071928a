// `runbook prune --older-than 30d`: removes finished jobs (completed, failed, stopped) that ended
// longer ago than that, with their stream records, history and signals, in batches that never
// make a worker wait (runtime/retention.ts). Workers also do this by themselves for jobs older
// than RUNBOOK_RETENTION (docs/runtime.md, Retention).
import { prune as pruneJobs } from "../runtime/retention.js";
import { countPrunable } from "../runtime/sql/prune.js";
import { CliError } from "./errors.js";
import { printJsonLine, printLine } from "./print.js";
import { withDb } from "./session.js";
import { parseDuration } from "../runtime/params.js";

export async function prune(opts: { olderThan: string; batch: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  const olderThanMs = parseDuration(opts.olderThan);
  if (olderThanMs === null) throw new CliError(`--older-than: "${opts.olderThan}" is not a duration (like 30d, 12h, 90m)`, 2);
  const batch = Number(opts.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) throw new CliError(`--batch: "${opts.batch}" is not a whole number from 1 to 100000`, 2);
  await withDb(async (db) => {
    const t0 = performance.now();
    const n = opts.dryRun ? await countPrunable(db.pool, olderThanMs) : await pruneJobs(db.pool, { olderThanMs, batch });
    const seconds = (performance.now() - t0) / 1000;
    if (opts.json) {
      printJsonLine({ pruned: opts.dryRun ? 0 : n, prunable: n, olderThan: opts.olderThan, dryRun: !!opts.dryRun, seconds });
    } else if (opts.dryRun) {
      printLine(`${n} finished job${n === 1 ? "" : "s"} ended more than ${opts.olderThan} ago would be removed`);
    } else {
      printLine(`removed ${n} finished job${n === 1 ? "" : "s"} that ended more than ${opts.olderThan} ago (${seconds.toFixed(1)} s)`);
    }
  });
}
