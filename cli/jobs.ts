// Job commands: `publish`, `start`, `jobs`, `job`, `output`, `suspend|resume|stop`, `signal`.
// Each parses its arguments, calls the operator API (runtime/operator/) and prints through
// cli/print.ts; what a job is and what may be done to it is decided there, not here.
// Compiling (publish) and following (start --wait, output --follow) are imported where they are
// used: `runbook jobs` is meant for scripts and pays for every module loaded at the top.
import type { Json } from "../runtime/abi.js";
import { DEFAULT_JOBS_LIMIT, MAX_PAGE } from "../runtime/operator/jobs.js";
import type { JobPage, JobView } from "../runtime/operator/views.js";
import type { ControlVerb } from "../runtime/sql/control.js";
import { reasonText } from "../runtime/sql/placement.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { CliError } from "./errors.js";
import { humanDuration, relativeTime } from "./human-time.js";
import { errorLine, printFields, printJson, printJsonLine, printLine, printNote, printRecord, printRecordJson, printTable, recordText } from "./print.js";
import { priorityOption } from "./placement.js";
import { withOperator } from "./session.js";

// ---------------------------------------------------------------------------------------------
// publish

export async function publish(paths: string[], opts: { runChangedActivities?: boolean; json?: boolean } = {}): Promise<void> {
  const { bundles } = await (await import("./bundles.js")).compileBundles(paths, { activityDrift: opts.runChangedActivities ? "run" : "refuse" });
  // The schedules files beside the runbooks (cli/schedule-apply.ts): a bad line publishes nothing.
  const { applyScheduleFiles, paramWarnings, readScheduleFiles, resolveScheduleFiles } = await import("./schedule-apply.js");
  const schedules = readScheduleFiles(paths);
  await refuseDiagnostics(schedules.files.flatMap((f) => f.diagnostics), schedules.sources);
  await withOperator(async (op) => {
    const { resolved, diagnostics } = await resolveScheduleFiles(op.db, schedules.files, bundles);
    await refuseDiagnostics(diagnostics, schedules.sources);
    const published = await op.publish(bundles);
    const applied = await applyScheduleFiles(op.db, resolved);
    for (const w of await paramWarnings(op.db, bundles, resolved)) printNote(`warning: ${w}`);
    if (!opts.json) for (const a of applied) printLine(`schedule ${a.name}: ${a.result} (${a.file})`);
    if (opts.json) {
      printJson(published.map((p) => ({ runbook: p.runbook, result: p.result, hash: p.hash })));
      return;
    }
    for (const p of published) {
      const what = p.result === "unchanged" ? "unchanged" : p.result === "new" ? "published" : "new version";
      printLine(`${p.runbook}: ${what} ${p.hash.slice(0, 12)}`);
    }
  });
}

/** Prints diagnostics to stderr; any error refuses the publish before anything is stored. */
async function refuseDiagnostics(diagnostics: Diagnostic[], sources: ReadonlyMap<string, string>): Promise<void> {
  if (diagnostics.length === 0) return;
  const { formatDiagnostics } = await import("../compiler/report.js");
  process.stderr.write(formatDiagnostics(diagnostics, sources, "text"));
  if (diagnostics.some((d) => d.severity === "error")) throw new CliError("nothing was published: fix the errors above", 1);
}

// ---------------------------------------------------------------------------------------------
// start

export interface StartOptions {
  param: string[];
  id?: string;
  wait?: boolean;
  json?: boolean;
  group?: string;
  priority?: string;
}

export async function start(name: string, opts: StartOptions): Promise<void> {
  // --wait prints the job's streams as text as they come: no single JSON document to print.
  if (opts.json && opts.wait) throw new CliError("--json and --wait do not combine: start with --json, then `runbook output ID --follow --json`", 2);
  await withOperator(async (op) => {
    const { id } = await op.start({ runbook: name, params: { flags: opts.param }, id: opts.id, group: opts.group, priority: priorityOption(opts.priority) });
    if (opts.json) printJsonLine({ id });
    else printLine(id);
    if (opts.wait) await (await import("./follow.js")).followToExit(op, id);
  });
}

// ---------------------------------------------------------------------------------------------
// jobs, job, output

export async function jobs(opts: { status?: string; json?: boolean; limit?: string; schedule?: string }): Promise<void> {
  if (opts.limit !== undefined && !/^\d+$/.test(opts.limit)) throw new CliError(`--limit ${opts.limit} is not a whole number of jobs (1 or more)`, 2);
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && limit < 1) throw new CliError(`--limit ${opts.limit} is not a whole number of jobs (1 or more)`, 2);
  await withOperator(async (op) => {
    // Page by page up to the limit (a page holds at most MAX_PAGE jobs).
    const want = limit ?? DEFAULT_JOBS_LIMIT;
    const page: JobPage = { jobs: [], next: null };
    do {
      const more = await op.jobs({ status: opts.status, schedule: opts.schedule, limit: Math.min(MAX_PAGE, want - page.jobs.length), cursor: page.next ?? undefined });
      page.jobs.push(...more.jobs);
      page.next = more.next;
    } while (page.next && page.jobs.length < want);
    if (page.next) printNote(`showing the newest ${page.jobs.length} jobs; there are more (--limit N shows more)`);
    if (opts.json) {
      printJson(page.jobs);
      return;
    }
    if (page.jobs.length === 0) {
      const of = opts.schedule ? ` of schedule ${opts.schedule}` : "";
      printLine(opts.status ? `no ${opts.status} jobs${of}` : `no jobs${of}`);
      return;
    }
    printTable(
      ["ID", "RUNBOOK", "STATUS", "WORKER", "CHECKPOINT", "UPDATED"],
      page.jobs.map((j) => [j.id, j.runbook, j.status, j.worker ?? "-", j.checkpoint_label ?? (j.checkpoint_at ? "(unlabelled)" : "-"), relativeTime(j.updated_at)]),
    );
  });
}

export async function job(id: string, opts: { json?: boolean }): Promise<void> {
  await withOperator(async (op) => {
    const detail = await op.job(id);
    const { records: streams } = await op.output(id, 0, 1000);
    if (opts.json) {
      printJson({ ...detail, schedule: detail.job.schedule, streams });
      return;
    }
    const j = detail.job;
    printFields([
      ["job", j.id],
      ["runbook", `${j.runbook} (version ${j.version.slice(0, 12)})`],
      ["status", j.status + (j.control ? ` (${j.control} requested)` : "") + parkedOn(j)],
      ...(detail.waiting ? [["waiting", reasonText(detail.waiting)] as [string, string]] : []),
      ["slot", String(j.slot)],
      ["group", j.worker_group + (j.priority !== 0 ? `, priority ${j.priority}` : "")],
      ...(j.concurrency_key !== null
        ? [["key", `${j.concurrency_key} (limit ${j.concurrency_limit})${j.key_place !== null ? `, holds place ${j.key_place}` : ""}`] as [string, string]]
        : []),
      ["worker", j.worker ?? "-"],
      ["created", `${j.created_at.toISOString()} (${relativeTime(j.created_at)})`],
      ...(j.finished_at ? [["took", humanDuration(j.finished_at.getTime() - j.created_at.getTime())] as [string, string]] : []),
      ["checkpoint", j.checkpoint_at ? `${j.checkpoint_label ?? "(unlabelled)"} at ${j.checkpoint_at.toISOString()}, ${relativeTime(j.checkpoint_at)} (${j.checkpoints} in all)` : "none yet"],
      ...(j.parent_id ? [["parent", j.parent_id + (j.branch_label != null ? ` (parallel for branch, element ${j.branch_label})` : "")] as [string, string]] : []),
      ...(j.schedule ? [["schedule", `${j.schedule.name}, tick ${j.schedule.tick.toISOString()}`] as [string, string]] : []),
      ["params", JSON.stringify(j.params)],
      ...(j.status === "completed" ? [["result", JSON.stringify(j.result)] as [string, string]] : []),
      ...(j.error ? [["error", errorLine(j.error)] as [string, string]] : []),
    ]);
    // Branches are listed with their elements below.
    const branchIds = new Set(detail.branches.map((b) => b.id));
    const started = detail.children.filter((c) => !branchIds.has(c.id));
    if (started.length > 0) {
      printLine(`children (${started.length}):`);
      for (const c of started) printLine(`  ${c.id} ${c.runbook} ${c.status}`);
    }
    if (detail.branches.length > 0) {
      printLine(`branches (${detail.branches.length}):`);
      const w = Math.max(...detail.branches.map((b) => b.branch_label.length));
      for (const b of detail.branches) printLine(`  ${b.branch_label.padEnd(w)}  ${b.status.padEnd(9)}  ${(b.worker ?? "-").padEnd(8)}  ${b.id}`);
    }
    printLine(`streams (${j.stream_seq}${j.stream_seq > streams.length ? `, the first ${streams.length} shown: runbook output ${j.id}` : ""}):`);
    for (const r of streams) printLine(`  ${r.seq} ${r.stream}: ${recordText(r.value)}`);
    printLine("history:");
    for (const h of detail.history) printLine(`  ${h.at.toISOString()} ${h.from_status ?? "-"} -> ${h.to_status}${h.worker ? ` on ${h.worker}` : ""}: ${h.reason}`);
  });
}

/**
 * `runbook output ID [--follow] [--json]`. With --json, every record of every stream goes to
 * stdout as one JSON line `{"seq","stream","value","at"}` (JSON lines, so --follow can print as
 * records come and `| head` or `jq` can read them one by one).
 */
export async function output(id: string, opts: { follow?: boolean; json?: boolean }): Promise<void> {
  await withOperator(async (op) => {
    await op.jobRow(id);
    const write = opts.json ? printRecordJson : printRecord;
    if (opts.follow) {
      await (await import("./follow.js")).followToExit(op, id, write);
      return;
    }
    // Page by page: a big job's output is never held whole.
    for (let after: number | null = 0; after !== null; ) {
      const page = await op.output(id, after);
      for (const r of page.records) write(r);
      after = page.next;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// suspend, resume, stop, signal

export async function control(verb: ControlVerb, id: string): Promise<void> {
  await withOperator(async (op) => printLine(`job ${id}: ${(await op.control(verb, id)).outcome}`));
}

export async function signal(id: string, name: string, json: string): Promise<void> {
  let payload: Json;
  try {
    payload = JSON.parse(json) as Json;
  } catch {
    throw new CliError(`the signal payload ${JSON.stringify(json)} is not JSON (quote strings: '"text"')`, 2);
  }
  await withOperator(async (op) => {
    const r = await op.signal(id, name, payload);
    printLine(r.woke ? `job ${id}: signal ${name} delivered; the job is queued to continue` : `job ${id} (${r.status}): signal ${name} kept in its mailbox for its next wait "${name}"`);
  });
}

function parkedOn(j: JobView): string {
  if (j.status === "waiting" && j.wait_signal) return `, for signal ${j.wait_signal}${j.wait_until ? ` until ${j.wait_until.toISOString()} (${relativeTime(j.wait_until)})` : ""}`;
  if (j.status === "waiting" && j.await_job) return `, for job ${j.await_job}`;
  if (j.status === "sleeping" && j.wait_until) return `, until ${j.wait_until.toISOString()} (${relativeTime(j.wait_until)})`;
  return "";
}
