// `runbook schedule set|list|show|pause|resume|remove|trigger`. The SQL is in
// runtime/sql/schedules.ts, the firing in runtime/schedules.ts.
import { Ticks } from "../runtime/cron.js";
import type { Db } from "../runtime/db/connect.js";
import { withTransaction } from "../runtime/db/tx.js";
import type { Queryable, ScheduleRow, TickRow } from "../runtime/rows.js";
import { triggerSchedule } from "../runtime/schedules.js";
import { dbNow, getSchedule, listSchedules, putSchedule, recentTicks, removeSchedule, type ScheduleSpec } from "../runtime/sql/schedules.js";
import { currentVersion, publishedNames } from "../runtime/sql/versions.js";
import { CliError } from "./errors.js";
import { humanDuration, relativeTime } from "./human-time.js";
import { suggestName } from "../runtime/operator/jobs.js";
import { scheduleView as scheduleJson } from "../runtime/operator/schedules.js";
import { printJson, printLine, printTable } from "./print.js";
import { withDb, withOperator } from "./session.js";
import { parseJobParams } from "./params.js";
import { checkCatchup, checkCron, checkGroup, checkName, checkOverlap, checkZone, type Checked } from "./schedule-spec.js";

export interface SetOptions {
  runbook: string;
  cron: string;
  tz: string;
  param: string[];
  group?: string;
  overlap: string;
  catchup: string;
}

function must<T>(c: Checked<T>): T {
  if (!c.ok) throw new CliError(c.problem, 2);
  return c.value;
}

export async function set(name: string, opts: SetOptions): Promise<void> {
  const tz = must(checkZone(opts.tz));
  const partial = {
    name: must(checkName(name)),
    cron: must(checkCron(opts.cron, tz)),
    tz,
    group: opts.group === undefined ? null : must(checkGroup(opts.group)),
    overlap: must(checkOverlap(opts.overlap)),
    catchupMs: must(checkCatchup(opts.catchup)),
  };
  await withDb(async (db) => {
    const version = await currentVersion(db.pool, opts.runbook);
    if (!version) throw new CliError(`no published runbook ${opts.runbook}${suggestName(await publishedNames(db.pool), opts.runbook)}`, 1);
    const spec: ScheduleSpec = { ...partial, runbook: opts.runbook, params: parseJobParams(opts.runbook, version.params, opts.param) };
    const next = await withTransaction(db.pool, async (c) => {
      const old = await getSchedule(c, name, true);
      if (old?.source === "file") throw new CliError(`schedule ${name} is declared in ${old.source_file}: change it there and publish`, 1);
      const nextAt = new Ticks(spec.cron, spec.tz).after(await dbNow(c));
      await putSchedule(c, spec, { source: "cli" }, nextAt);
      return nextAt;
    });
    process.stdout.write(`schedule ${name}: ${spec.runbook} at "${spec.cron}" (${spec.tz}); next ${next ? next.toISOString() : "never (the cron has no further time)"}\n`);
  });
}

export async function list(opts: { json?: boolean }): Promise<void> {
  await withDb(async (db) => {
    const rows = await listSchedules(db.pool);
    if (opts.json) return printJson(rows.map(scheduleJson));
    if (rows.length === 0) return void process.stdout.write("no schedules (runbook schedule set NAME --runbook RB --cron EXPR)\n");
    printTable(
      ["NAME", "RUNBOOK", "CRON", "TZ", "OVERLAP", "STATE", "NEXT", "FROM"],
      rows.map((s) => [s.name, s.runbook, s.cron, s.tz, s.overlap, s.paused ? "paused" : "active", s.paused || !s.next_at ? "-" : `${s.next_at.toISOString()} (${relativeTime(s.next_at)})`, s.source === "file" ? s.source_file! : "cli"]),
    );
  });
}

export async function show(name: string, opts: { json?: boolean; limit?: string }): Promise<void> {
  const limit = Number(opts.limit ?? "20");
  if (!Number.isSafeInteger(limit) || limit < 1) throw new CliError(`--limit ${opts.limit} is not a whole number of ticks (1 or more)`, 2);
  await withDb(async (db) => {
    const s = await mustGet(db.pool, name);
    const ticks = await recentTicks(db.pool, name, limit);
    if (opts.json) return printJson({ schedule: scheduleJson(s), ticks: ticks.map(tickJson) });
    const j = scheduleJson(s);
    const line = (k: string, v: string) => process.stdout.write(`${`${k}:`.padEnd(10)}${v}\n`);
    line("schedule", s.name);
    line("runbook", s.runbook);
    line("cron", `${s.cron} (${s.tz})`);
    line("params", JSON.stringify(s.params));
    line("group", j.group ?? "the runbook's (else default)");
    line("overlap", s.overlap + (s.pending_tick ? `, tick ${s.pending_tick.toISOString()} waits` : ""));
    line("catch-up", j.catchup_ms ? humanDuration(j.catchup_ms) : "none");
    line("state", s.paused ? "paused" : "active");
    line("next", j.next ?? "-");
    line("from", s.source === "file" ? s.source_file! : "runbook schedule set");
    process.stdout.write(`ticks (newest ${ticks.length}):\n`);
    for (const t of ticks) process.stdout.write(`  ${tickText(t)}\n`);
  });
}

function tickJson(t: TickRow) {
  return { tick: t.tick.toISOString(), outcome: t.outcome, job: t.job_id, last_tick: t.last_tick?.toISOString() ?? null, missed: t.missed, reason: t.reason, at: t.at.toISOString() };
}

function tickText(t: TickRow): string {
  switch (t.outcome) {
    case "fired":
    case "triggered":
      return `${t.tick.toISOString()} ${t.outcome}: job ${t.job_id}`;
    case "missed":
      return `${t.tick.toISOString()} missed ${t.missed} tick${t.missed === 1 ? "" : "s"} up to ${t.last_tick!.toISOString()}: ${t.reason}`;
    case "skipped":
    case "queued":
      return `${t.tick.toISOString()} ${t.outcome}: ${t.reason}`;
  }
}

export async function pause(name: string, paused: boolean): Promise<void> {
  await withOperator(async (op) => {
    const s = await (paused ? op.pauseSchedule(name) : op.resumeSchedule(name));
    printLine(paused ? `schedule ${name}: paused` : `schedule ${name}: resumed; next ${s.next ?? "never"}`);
  });
}

export async function remove(name: string): Promise<void> {
  await withDb(async (db) => {
    await withTransaction(db.pool, async (c) => {
      const s = await mustGet(c, name, true);
      if (s.source === "file") throw new CliError(`schedule ${name} is declared in ${s.source_file}: remove its line there and publish`, 1);
      await removeSchedule(c, name);
    });
    process.stdout.write(`schedule ${name}: removed (its jobs stay)\n`);
  });
}

export async function trigger(name: string, opts: { json?: boolean }): Promise<void> {
  await withDb(async (db: Db) => {
    const r = await withTransaction(db.pool, async (c) => triggerSchedule(c, await mustGet(c, name, true)));
    if (r.kind === "unpublished") throw new CliError(`schedule ${name} runs ${r.runbook}, which is not published`, 1);
    process.stdout.write(opts.json ? `${JSON.stringify({ id: r.jobId, tick: r.tick.toISOString() })}\n` : `${r.jobId}\n`);
  });
}

async function mustGet(db: Queryable, name: string, lock = false): Promise<ScheduleRow> {
  const s = await getSchedule(db, name, lock);
  if (s) return s;
  const names = (await listSchedules(db)).map((x) => x.name);
  throw new CliError(`no schedule ${name}${names.length ? suggestName(names, name) : " (there are no schedules)"}`, 1);
}
