// `parallel for`, as pure decisions: given the branches of one run as the database (or the
// in-memory executor) holds them, which to start next, whether to stop the rest, and whether
// the parent goes on (with the results or an error) or waits. The Postgres worker
// (lease.ts `parkJoin`, under the parent's row lock) and memory.ts both call `planJoin`.
//
//   found                                         on_error   start               stop  parent
//   a branch failed or was stopped                "stop"     none                yes   raises (first such element)
//   fewer than `limit` running, elements left     any        next, in order      no    waits
//   all ended, none failed                        any        -                   no    goes on with the results in order
//   all ended, some failed                        "continue" -                   no    raises, data lists each failure
//   otherwise                                     any        -                   no    waits
//
// Only the parent starts branches, under its own lease, so `limit` holds across the fleet.
import type { ErrorRecord, Input, JobState, Join, Json } from "./abi.js";
import { FINISHED, type JobStatus } from "./rows.js";

/** One branch as stored. */
export interface BranchRow {
  index: number;
  status: JobStatus;
  result: unknown;
  error: unknown;
}

export interface JoinStep {
  /** Element indices to start now, ascending. */
  start: number[];
  /** Stop every branch still running. */
  stop: boolean;
  /** The parent goes on with this (the list of results, or the error); null: it waits. */
  settled: Input | null;
}

/**
 * While a job waits at a `parallel for`, what it runs is kept in the waiting frame's locals as
 * `$join` (set by the driver when the step asks for it, removed when the job goes on): a frame
 * local, so a branch argument holding a secret is sealed with the state like any local
 * (runtime/sealed-state.ts), and `$` keeps it out of what operators are shown as locals.
 */
const JOIN_LOCAL = "$join";

export function joinOf(state: JobState): Join | undefined {
  const top = state.frames[state.frames.length - 1];
  const j = top?.locals[JOIN_LOCAL];
  return j === undefined ? undefined : (j as unknown as Join);
}

export function setJoin(state: JobState, join: Join): void {
  state.frames[state.frames.length - 1].locals[JOIN_LOCAL] = join as unknown as Json;
}

export function clearJoin(state: JobState): void {
  const top = state.frames[state.frames.length - 1];
  if (top && JOIN_LOCAL in top.locals) delete top.locals[JOIN_LOCAL];
}

/** Branch job ids: stable per parent, run and element, so starting one again is a no-op. */
export function branchId(parent: string, key: number, index: number): string {
  return `${parent}/${key}.${index}`;
}

/** An element as operators see it next to its branch. */
export function elementLabel(element: Json): string {
  return typeof element === "string" ? element : JSON.stringify(element);
}

export function planJoin(join: Join, rows: BranchRow[]): JoinStep {
  const n = join.args.length;
  const byIndex = new Map(rows.map((r) => [r.index, r]));
  const failures = rows.filter((r) => r.status === "failed" || r.status === "stopped").sort((a, b) => a.index - b.index);
  if (join.onError === "stop" && failures.length > 0) {
    const f = failures[0];
    const error = branchError(join, f);
    const record = at(join, `branch for element ${elementLabel(join.elements[f.index] ?? null)} failed: ${error.message}`, failureData(join, f));
    return { start: [], stop: rows.some((r) => !FINISHED.includes(r.status)), settled: { error: record } };
  }
  const running = rows.filter((r) => !FINISHED.includes(r.status)).length;
  const room = (join.limit === null ? n : join.limit) - running;
  const start: number[] = [];
  for (let i = 0; i < n && start.length < room; i++) if (!byIndex.has(i)) start.push(i);
  if (start.length > 0 || running > 0 || rows.length < n) return { start, stop: false, settled: null };
  if (failures.length > 0) {
    const list = failures.map((f) => `${elementLabel(join.elements[f.index] ?? null)}: ${branchError(join, f).message}`).join("; ");
    const data: Json = failures.map((f) => failureData(join, f));
    return { start: [], stop: false, settled: { error: at(join, `${failures.length} of ${n} branches failed: ${list}`, data) } };
  }
  const results = Array.from({ length: n }, (_, i) => (byIndex.get(i)!.result ?? null) as Json);
  return { start: [], stop: false, settled: { value: results } };
}

/** Why `parallel for` cannot run with these options, or null. */
export function badJoin(join: Pick<Join, "limit" | "args" | "elements">): string | null {
  if (join.limit !== null && (!Number.isInteger(join.limit) || join.limit < 1)) return `the limit of \`parallel for\` must be a whole number of at least 1, got ${join.limit}`;
  if (join.args.length !== join.elements.length) return "internal error: a `parallel for` with more elements than arguments";
  return null;
}

function branchError(join: Join, f: BranchRow): ErrorRecord {
  if (f.status === "failed" && isRecord(f.error)) return f.error;
  return { message: "the branch was stopped", runbook: join.runbook, file: join.at.file, line: 0, column: 0, data: null };
}

function failureData(join: Join, f: BranchRow): { [key: string]: Json } {
  const e = branchError(join, f);
  return { index: f.index, element: join.elements[f.index] ?? null, error: e as unknown as Json };
}

function at(join: Join, message: string, data: Json): ErrorRecord {
  return { message, runbook: join.at.runbook, file: join.at.file, line: join.at.line, column: join.at.column, data };
}

function isRecord(e: unknown): e is ErrorRecord {
  return typeof e === "object" && e !== null && typeof (e as ErrorRecord).message === "string";
}
