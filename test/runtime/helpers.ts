// Shared by the runtime tests: publishing hand-written modules, queueing jobs, waiting.
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Json } from "../../runtime/abi.js";
import type pg from "pg";
import driver from "../../runtime/db/pg.js";
import { afterAll, beforeAll } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { bundleProject, publishBundles } from "../../runtime/publish.js";
import type { HistoryRow, JobRow, JobStatus } from "../../runtime/rows.js";
import { CLAIM_TEXT, claimJobs, NEXT_DUE_TEXT } from "../../runtime/sql/claim.js";
import { getJob, insertJobs } from "../../runtime/sql/enqueue.js";
import { jobHistory, streamsAfter } from "../../runtime/sql/inspect.js";
import { freshDb } from "../setup/db.js";
import { moduleText, type HandModule } from "./modules.js";

export const LEDGER = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "ledger.ts");

/** Publishes the modules (each bundled with its callees); returns name → version hash. */
export async function publish(db: Db, modules: HandModule[]): Promise<Map<string, string>> {
  const bundles = await bundleProject(modules.map(moduleText));
  await publishBundles(db, bundles);
  return new Map(bundles.map((b) => [b.runbook, b.hash]));
}

/** A job claimed by a test: its id and the epoch of its lease. */
export interface ClaimedRef {
  id: string;
  epoch: string;
}

/**
 * For a file of tests of single statements: a fresh database, opened before its tests and closed
 * after them, with a no-op runbook published (`version`). `claimed(n)` queues `n` of its jobs and
 * claims them all at once (as worker "w", for an hour).
 */
export function noopJobs(): { readonly db: Db; readonly version: string; claimed(n: number): Promise<ClaimedRef[]> } {
  let db: Db | undefined;
  let version = "";
  beforeAll(async () => {
    db = await freshDb(4);
    version = (await publish(db, [{ name: "noop", body: `return { kind: "return", value: null };` }])).get("noop")!;
  });
  afterAll(async () => {
    await db?.close();
  });
  return {
    get db() {
      if (!db) throw new Error("the database opens before the file's tests");
      return db;
    },
    get version() {
      return version;
    },
    async claimed(n) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(await enqueue(this.db, "noop", version));
      const slots = Array.from({ length: this.db.slotCount }, (_, i) => i);
      const claims = await claimJobs(this.db.pool, "w", slots, 100, 3_600_000);
      return ids.map((id) => {
        const claim = claims.find((c) => c.id === id);
        if (!claim) throw new Error(`job ${id} was queued but not claimed`);
        return { id, epoch: claim.lease_epoch };
      });
    },
  };
}

/**
 * Queues a job. `before` runs in the same transaction, after the insert, so a test can change
 * the row before any worker can see it.
 */
export async function enqueue(
  db: Db,
  runbook: string,
  version: string,
  params: Record<string, Json> = {},
  id: string = randomUUID(),
  before?: (client: pg.PoolClient) => Promise<unknown>,
): Promise<string> {
  await withTransaction(db.pool, async (client) => {
    await insertJobs(client, [{ id, runbook, version, params }], "test");
    await before?.(client);
  });
  return id;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function waitStatus(db: Db, id: string, status: JobStatus | JobStatus[], timeoutMs?: number): Promise<JobRow> {
  const want = Array.isArray(status) ? status : [status];
  return waitFor(`job ${id} to be ${want.join(" or ")}`, async () => {
    const j = await getJob(db.pool, id);
    return j && want.includes(j.status) ? j : null;
  }, timeoutMs);
}

export async function job(db: Db, id: string): Promise<JobRow> {
  const j = await getJob(db.pool, id);
  if (!j) throw new Error(`no job ${id}`);
  return j;
}

export async function outputs(db: Db, id: string): Promise<Json[]> {
  return (await streamsAfter(db.pool, id)).map((r) => r.value);
}

/**
 * "from->to" of every transition, in order. An operator's line with no status change (a request
 * on a running job, a signal kept for later: no worker) is left out; a takeover (running->running
 * on the new worker) is a transition.
 */
export async function transitions(db: Db, id: string): Promise<string[]> {
  const isOperatorNote = (h: HistoryRow) => h.from_status === h.to_status && h.worker === null;
  return (await jobHistory(db.pool, id)).filter((h) => !isOperatorNote(h)).map((h: HistoryRow) => `${h.from_status ?? "-"}->${h.to_status}`);
}

/** What a claim is explained for: a worker owning `slots`, claiming at most `limit` of `group`'s jobs. */
export interface ClaimScenario {
  slots: number[];
  limit: number;
  group?: string;
}

type PlanMode = "force_generic_plan" | "force_custom_plan";

/**
 * EXPLAIN ANALYZE of a runtime statement as PostgreSQL runs it prepared, in the plan `mode` asks
 * for: a prepared statement gets custom plans for its first executions, then may keep a generic
 * one. `types` are its parameters' types and `args` the EXECUTE's arguments, as SQL. It runs in a
 * transaction that is rolled back.
 */
async function preparedPlan(db: Db, mode: PlanMode, text: string, types: string, args: string): Promise<string> {
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
    await client.query(`PREPARE plan_test(${types}) AS ${text}`);
    const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE plan_test(${args})`);
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  } finally {
    await client.query("ROLLBACK"); // what the statement wrote
    await client.query("DEALLOCATE plan_test").catch(() => undefined);
    client.release();
  }
}

/** The plan of the claim itself (CLAIM_TEXT) for this scenario. */
export function claimPlan(db: Db, mode: PlanMode, c: ClaimScenario): Promise<string> {
  return preparedPlan(db, mode, CLAIM_TEXT, "text, int[], int, int, text[], text", `'plan-test', '{${c.slots.join(",")}}', ${c.limit}, 60000, '{}', ${driver.escapeLiteral(c.group ?? "default")}`);
}

/** The plan of runtime/sql/claim.ts `nextDue` (NEXT_DUE_TEXT) for every slot of the default group. */
export function nextDuePlan(db: Db, mode: PlanMode, withinMs: number): Promise<string> {
  const slots = Array.from({ length: db.slotCount }, (_, i) => i).join(",");
  return preparedPlan(db, mode, NEXT_DUE_TEXT, "int[], text[], text, int", `'{${slots}}', '{}', 'default', ${withinMs}`);
}

/** The scan of jobs the claim's `picked` makes: its plan line, and how many rows it returned. */
export function pickedScan(plan: string): { line: string; rows: number } {
  const line = plan.split("\n").find((l) => /Scan.* on jobs( |$)/.test(l) && !/Tid Scan/.test(l));
  if (!line) throw new Error(`no scan of jobs in the plan:\n${plan}`);
  return { line: line.trim(), rows: Number(/rows=(\d+)/.exec(line)?.[1]) };
}
