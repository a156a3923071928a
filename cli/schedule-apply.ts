// `runbook publish` and the schedules files beside the runbooks: found, read and checked before
// anything is published (a bad line publishes nothing), then applied with the runbooks. A file's
// schedules are replaced by what it declares now: a changed line changes its schedule, a removed
// line removes it; schedules made with `runbook schedule set` are never touched.
import * as fs from "node:fs";
import * as path from "node:path";
import { validateValue, type Type } from "../compiler/types.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { Ticks } from "../runtime/cron.js";
import type { Db } from "../runtime/db/connect.js";
import { withTransaction } from "../runtime/db/tx.js";
import type { Json, ParamInfo } from "../runtime/abi.js";
import type { Bundle } from "../runtime/publish.js";
import type { ScheduleRow } from "../runtime/rows.js";
import { dbNow, listSchedules, putSchedule, removeSchedule, schedulesOfFile, type ScheduleSpec } from "../runtime/sql/schedules.js";
import { currentVersion } from "../runtime/sql/versions.js";
import { OperatorError } from "../runtime/operator/errors.js";
import { parseJobParams } from "./params.js";
import { CODES, SCHEDULES_FILE, readScheduleFile, type ScheduleFile } from "./schedule-file.js";

/** The schedules files of the publish paths: at the top of each folder, or beside each file. */
export function readScheduleFiles(paths: string[]): { files: ScheduleFile[]; sources: Map<string, string> } {
  const found = new Set<string>();
  for (const p of paths) {
    const dir = fs.existsSync(p) && fs.statSync(p).isDirectory() ? p : path.dirname(p);
    const file = path.join(dir, SCHEDULES_FILE);
    if (fs.existsSync(file)) found.add(path.relative(process.cwd(), path.resolve(file)) || file);
  }
  const sources = new Map<string, string>();
  const files = [...found].sort().map((f) => {
    const text = fs.readFileSync(f, "utf8");
    sources.set(f, text);
    return readScheduleFile(f, text);
  });
  return { files, sources };
}

/** A file's schedules, checked against the runbooks (published now or in this publish). */
export interface Resolved {
  file: string;
  specs: ScheduleSpec[];
}

/**
 * Checks each entry's runbook and parameters (against the version this publish makes, or the
 * published one) and that no other source owns its name. Diagnostics, not exceptions.
 */
export async function resolveScheduleFiles(db: Db, files: ScheduleFile[], bundles: Bundle[]): Promise<{ resolved: Resolved[]; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const owners = new Map((await listSchedules(db.pool)).map((s) => [s.name, s]));
  const paramsOf = async (runbook: string): Promise<ParamInfo[] | null> => bundles.find((b) => b.runbook === runbook)?.params ?? (await currentVersion(db.pool, runbook))?.params ?? null;
  const resolved: Resolved[] = [];
  for (const f of files) {
    const specs: ScheduleSpec[] = [];
    for (const e of f.entries) {
      const owner = owners.get(e.name);
      if (owner && (owner.source === "cli" || owner.source_file !== f.file)) {
        const by = owner.source === "cli" ? "`runbook schedule set`" : owner.source_file;
        diagnostics.push({ severity: "error", code: CODES.owner, message: `schedule ${e.name} exists already, made by ${by}`, span: e.nameSpan, hint: owner.source === "cli" ? `remove it first (runbook schedule remove ${e.name}) or rename this one` : "rename one of them" });
        continue;
      }
      const params = await paramsOf(e.runbook);
      if (!params) {
        diagnostics.push({ severity: "error", code: CODES.runbook, message: `no runbook ${e.runbook} is published or in this publish`, span: e.runbookSpan });
        continue;
      }
      let values: Record<string, Json>;
      try {
        values = parseJobParams(e.runbook, params, e.params.map((p) => p.flag));
      } catch (err) {
        if (!(err instanceof OperatorError)) throw err;
        // Point at the parameter the message names, else at the runbook (a missing one).
        const at = e.params.find((p) => err.message.includes(`parameter ${p.flag.slice(0, p.flag.indexOf("="))} `))?.span ?? e.runbookSpan;
        diagnostics.push({ severity: "error", code: CODES.param, message: err.message, span: at });
        continue;
      }
      specs.push({ name: e.name, runbook: e.runbook, cron: e.cron, tz: e.tz, params: values, group: e.group, overlap: e.overlap, catchupMs: e.catchupMs });
    }
    resolved.push({ file: f.file, specs });
  }
  return { resolved, diagnostics };
}

export type Applied = { name: string; file: string; result: "created" | "changed" | "unchanged" | "removed" };

/** Applies the files in one transaction: each file's schedules become exactly what it declares. */
export async function applyScheduleFiles(db: Db, files: Resolved[]): Promise<Applied[]> {
  return withTransaction(db.pool, async (c) => {
    const out: Applied[] = [];
    const now = await dbNow(c);
    for (const f of files) {
      const before = new Map((await schedulesOfFile(c, f.file)).map((s) => [s.name, s]));
      for (const spec of f.specs) {
        const old = before.get(spec.name);
        before.delete(spec.name);
        if (old && same(old, spec)) {
          out.push({ name: spec.name, file: f.file, result: "unchanged" });
          continue;
        }
        await putSchedule(c, spec, { source: "file", file: f.file }, new Ticks(spec.cron, spec.tz).after(now));
        out.push({ name: spec.name, file: f.file, result: old ? "changed" : "created" });
      }
      for (const gone of before.keys()) {
        await removeSchedule(c, gone);
        out.push({ name: gone, file: f.file, result: "removed" });
      }
    }
    return out;
  });
}

/** An unchanged line leaves its schedule alone (its next tick, a queued tick, paused or not). */
function same(s: ScheduleRow, spec: ScheduleSpec): boolean {
  return (
    s.runbook === spec.runbook && s.cron === spec.cron && s.tz === spec.tz && s.overlap === spec.overlap &&
    Number(s.catchup_ms) === spec.catchupMs && s.worker_group === spec.group && canonical(s.params) === canonical(spec.params)
  );
}

function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

/**
 * Schedules not declared in these files whose stored parameters the runbook's new version (in
 * this publish) no longer takes: one warning line each, for stderr. Their jobs would fail.
 */
export async function paramWarnings(db: Db, bundles: Bundle[], files: Resolved[]): Promise<string[]> {
  const declared = new Set(files.flatMap((f) => f.specs.map((s) => s.name)));
  const byRunbook = new Map(bundles.map((b) => [b.runbook, b.params]));
  const out: string[] = [];
  for (const s of await listSchedules(db.pool)) {
    const params = byRunbook.get(s.runbook);
    if (!params || declared.has(s.name)) continue;
    const problem = paramsProblem(params, s.params);
    if (problem) out.push(`schedule ${s.name}: ${problem} in the new version of ${s.runbook}; its jobs will fail until it is set again`);
  }
  return out;
}

function paramsProblem(params: ParamInfo[], values: Record<string, Json>): string | null {
  for (const name of Object.keys(values)) if (!params.some((p) => p.name === name)) return `parameter ${name} is no longer declared`;
  for (const p of params) {
    if (!Object.hasOwn(values, p.name)) {
      if (!p.hasDefault) return `parameter ${p.name} (${p.type}) is now required`;
      continue;
    }
    const problem = validateValue(values[p.name], p.typeData as unknown as Type);
    if (problem) return `parameter ${p.name} is now ${p.type}: ${problem}`;
  }
  return null;
}
