// The operator's job actions: start, list, show, output, suspend/resume/stop, signal. Each
// checks its input, runs the query module's SQL (runtime/sql/*) and answers with a view
// (views.ts) or an OperatorError; the CLI and the HTTP API only translate.
import { randomUUID } from "node:crypto";
import { GROUP_NAME, GROUP_NAME_RULE, MAX_PRIORITY, type Json } from "../abi.js";
import type { Db } from "../db/connect.js";
import { withTransaction } from "../db/tx.js";
import { checkJobParams, parseJobParams } from "../params.js";
import { JOB_STATUSES, type JobRow, type JobStatus } from "../rows.js";
import type { StoredState } from "../sealed-state.js";
import { ControlRefused, controlJob, sendSignal, type ControlResult, type ControlVerb } from "../sql/control.js";
import { getJob, insertJobs } from "../sql/enqueue.js";
import { branchesOf, childJobs, jobHistory, jobsWithPrefix, listJobPage, streamsAfter, type JobCursor } from "../sql/inspect.js";
import { queuedReason } from "../sql/placement.js";
import { currentVersion, publishedNames } from "../sql/versions.js";
import { OperatorError } from "./errors.js";
import type { JobDetail, JobPage, JobQuery, JobView, OutputPage, StartRequest, WithSchedule } from "./views.js";

/** Jobs a list shows when given no limit: the newest screenfuls, not a whole history. */
export const DEFAULT_JOBS_LIMIT = 100;
/** The most a list or an output page returns at once. */
export const MAX_PAGE = 1000;

/** Validates the parameters, then queues the job (idempotent with `id`). */
export async function startJob(db: Db, actor: string, req: StartRequest): Promise<{ id: string; created: boolean }> {
  if (typeof req.runbook !== "string" || req.runbook === "") throw new OperatorError("a job needs a runbook: the published name to run", "invalid");
  // Placement (migration 0011): the group's and the priority's rules are runtime/abi.ts's.
  if (req.group !== undefined && (typeof req.group !== "string" || !GROUP_NAME.test(req.group))) {
    throw new OperatorError(`group ${JSON.stringify(req.group)} is not a group name (${GROUP_NAME_RULE})`, "invalid");
  }
  if (req.priority !== undefined && (!Number.isSafeInteger(req.priority) || Math.abs(req.priority) > MAX_PRIORITY)) {
    throw new OperatorError(`priority ${JSON.stringify(req.priority)} is not a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}`, "invalid");
  }
  if (req.id !== undefined && (typeof req.id !== "string" || req.id === "" || req.id.length > 200)) throw new OperatorError("id must be a text of 1 to 200 characters", "invalid");
  const version = await currentVersion(db.pool, req.runbook);
  if (!version) throw new OperatorError(`no published runbook ${req.runbook}${suggestName(await publishedNames(db.pool), req.runbook)}`, "not-found");
  const params = "flags" in req.params ? parseJobParams(req.runbook, version.params, req.params.flags) : checkJobParams(req.runbook, version.params, req.params.values);
  const id = req.id ?? randomUUID();
  const inserted = await insertJobs(db.pool, [{ id, runbook: req.runbook, version: version.hash, params, group: req.group, priority: req.priority }], `started by ${actor}`);
  if (inserted.length === 0) {
    const existing = await getJob(db.pool, id);
    if (existing && existing.runbook !== req.runbook) throw new OperatorError(`job ${id} already exists and runs ${existing.runbook}, not ${req.runbook}`, "conflict");
  }
  return { id, created: inserted.length > 0 };
}

export async function listJobs(db: Db, q: JobQuery): Promise<JobPage> {
  if (q.status !== undefined && !JOB_STATUSES.includes(q.status as JobStatus)) {
    throw new OperatorError(`unknown status ${q.status}: use one of ${JOB_STATUSES.join(", ")}`, "invalid");
  }
  const limit = q.limit ?? DEFAULT_JOBS_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new OperatorError(`limit must be a whole number from 1 to ${MAX_PAGE}`, "invalid");
  const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  const page = await listJobPage(db.pool, { status: q.status as JobStatus | undefined, runbook: q.runbook, parent: q.parent, schedule: q.schedule }, limit, cursor);
  return { jobs: page.jobs.map(withSchedule), next: page.next ? encodeCursor(page.next) : null };
}

/** A job's schedule columns as its `schedule` field. */
function withSchedule<T extends { schedule: string | null; schedule_tick: Date | null }>(j: T): WithSchedule<T> {
  const { schedule, schedule_tick, ...rest } = j;
  return { ...rest, schedule: schedule && schedule_tick ? { name: schedule, tick: schedule_tick } : null };
}

function encodeCursor(c: JobCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString("base64url");
}

function decodeCursor(text: string): JobCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as unknown[];
    // The database's own timestamptz text, as listJobPage gave it.
    if (typeof at === "string" && typeof id === "string" && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/.test(at)) return { at, id };
  } catch {
    // reported below
  }
  throw new OperatorError("cursor is not one this server gave: pass the `next` of the previous page", "invalid");
}

export async function mustGetJob(db: Db, id: string): Promise<JobRow> {
  const j = await getJob(db.pool, id);
  if (!j) throw new OperatorError(`no job ${id}${await suggestJob(db, id)}`, "not-found");
  return j;
}

export async function jobDetail(db: Db, id: string): Promise<JobDetail> {
  const row = await mustGetJob(db, id);
  const [history, children, waiting, branches] = await Promise.all([jobHistory(db.pool, id), childJobs(db.pool, id), queuedReason(db.pool, row), branchesOf(db.pool, id)]);
  const { state, lease_epoch: _, ...job } = row;
  return { job: withSchedule(job) satisfies JobView, waiting, history, children: children.map(withSchedule), branches, locals: state ? localsOf(state as StoredState) : null };
}

function localsOf(state: StoredState): JobDetail["locals"] {
  const frames = state.frames.map((f) => ({
    runbook: f.runbook,
    locals: Object.fromEntries(Object.entries(f.locals).filter(([name]) => !name.startsWith("$"))),
  }));
  return { frames, sealed: state.sealed !== undefined };
}

/** A page of the job's stream records after `after` (0: from the start). */
export async function jobOutput(db: Db, id: string, after = 0, limit = MAX_PAGE): Promise<OutputPage> {
  if (!Number.isSafeInteger(after) || after < 0) throw new OperatorError("after must be a record number (0 or more)", "invalid");
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new OperatorError(`limit must be a whole number from 1 to ${MAX_PAGE}`, "invalid");
  await mustGetJob(db, id);
  const records = await streamsAfter(db.pool, id, after, undefined, limit);
  return { records, next: records.length === limit ? records[limit - 1].seq : null };
}

export async function controlJobAs(db: Db, actor: string, verb: ControlVerb, id: string): Promise<ControlResult> {
  try {
    return await withTransaction(db.pool, (client) => controlJob(client, id, verb, actor));
  } catch (e) {
    throw await refused(db, id, e);
  }
}

export async function signalJob(db: Db, actor: string, id: string, name: unknown, payload: Json): Promise<{ woke: boolean; status: JobStatus }> {
  if (typeof name !== "string" || name === "") throw new OperatorError("a signal needs a name: the one its `wait` names", "invalid");
  try {
    return await withTransaction(db.pool, (client) => sendSignal(client, id, name, payload, actor));
  } catch (e) {
    throw await refused(db, id, e);
  }
}

async function refused(db: Db, id: string, e: unknown): Promise<unknown> {
  if (!(e instanceof ControlRefused)) return e;
  if (e.message.startsWith("no job")) return new OperatorError(e.message + (await suggestJob(db, id)), "not-found");
  return new OperatorError(e.message, "conflict");
}

async function suggestJob(db: Db, id: string): Promise<string> {
  const like = await jobsWithPrefix(db.pool, id.slice(0, Math.max(4, Math.floor(id.length / 2))));
  return like.length ? ` (did you mean ${like.join(", ")}?)` : "";
}

/** " (did you mean ...?)" for a name not found among `names`, or what there is. */
export function suggestName(names: string[], name: string): string {
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
