// The rules of a schedule's fields, shared by `runbook schedule set` (cli/schedules.ts) and the
// schedules file `publish` applies (cli/schedule-file.ts): each check returns its one-line
// problem, or the value read.
import { cronProblem, zoneProblem } from "../runtime/cron.js";
import { OVERLAPS, type Overlap } from "../runtime/rows.js";
import { parseDuration } from "./params.js";

/** The same rule as the schedules.name CHECK of migration 0009 (a job id is NAME@TICK). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(problem: string): Checked<T> => ({ ok: false, problem });

export function checkName(name: string): Checked<string> {
  return NAME.test(name) ? ok(name) : bad(`schedule name ${JSON.stringify(name)} is not valid: use letters, digits, '_', '.', '-', starting with a letter or digit`);
}

export function checkCron(cron: string, tz: string): Checked<string> {
  const problem = cronProblem(cron, tz);
  return problem ? bad(problem) : ok(cron.trim().split(/\s+/).join(" "));
}

export function checkZone(tz: string): Checked<string> {
  const problem = zoneProblem(tz);
  return problem ? bad(problem) : ok(tz);
}

export function checkOverlap(v: string): Checked<Overlap> {
  return OVERLAPS.includes(v as Overlap) ? ok(v as Overlap) : bad(`overlap ${JSON.stringify(v)} is not one of ${OVERLAPS.join(", ")}`);
}

export function checkCatchup(v: string): Checked<number> {
  if (v === "0") return ok(0);
  const ms = parseDuration(v);
  return ms === null ? bad(`catch-up ${JSON.stringify(v)} is not a duration (write it like 0, 10m, 1h or 2d)`) : ok(ms);
}

export function checkGroup(v: string): Checked<string> {
  return GROUP.test(v) ? ok(v) : bad(`group ${JSON.stringify(v)} is not a valid group name (letters, digits, '_', '.', '-')`);
}
