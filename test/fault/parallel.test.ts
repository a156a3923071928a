// `parallel for` on real workers (issue 13): branches run as child jobs on any worker at once,
// `limit` holds, a worker killed mid-fan-out loses no branch and runs none twice, and on_error
// both ways raises errors a `try` catches. Each claim is shown from the job history (database
// times), not from how long the test took.
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jobsHistory } from "../../runtime/sql/inspect.js";
import { assignSlots } from "../../runtime/slots.js";
import { Cluster, FIXTURES, finishedCounts, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create([FIXTURES, path.join("test", "fault", "parallel")]);
  await Promise.all([c.startWorker("p1"), c.startWorker("p2")]);
  await c.settle(["p1", "p2"]);
});
afterAll(async () => {
  await c?.destroy();
});

interface Interval {
  job: string;
  worker: string | null;
  from: number;
  to: number;
}

/**
 * The intervals each job spent `running`, in database time; or, with `alive`, from its creation
 * to its end in the order the history rows were inserted (their ids): a row's `at` is its
 * transaction's start, and the parent's transaction that starts the next branch may begin
 * before the ending it then waits for and sees.
 */
async function intervals(jobs: string[], alive = false): Promise<Interval[]> {
  // As `runbook job` shows it: a first claim is in the job row, not a history row (migration
  // 0008); creations and the ends of awaited jobs (branches) are rows, with ids.
  const rows = (await jobsHistory(c.db.pool, jobs)).map((r) => ({ ...r, id: r.id === null ? NaN : Number(r.id) }));
  const out: Interval[] = [];
  const open = new Map<string, { at: number; worker: string | null }>();
  for (const r of rows) {
    const starts = alive ? r.from_status === null : r.to_status === "running";
    const ends = alive ? ["completed", "failed", "stopped"].includes(r.to_status) : r.from_status === "running";
    if (ends && open.has(r.job_id)) {
      const o = open.get(r.job_id)!;
      out.push({ job: r.job_id, worker: o.worker, from: o.at, to: alive ? r.id : r.at.getTime() });
      open.delete(r.job_id);
    }
    if (starts) open.set(r.job_id, { at: alive ? r.id : r.at.getTime(), worker: r.worker });
  }
  for (const [job, o] of open) out.push({ job, worker: o.worker, from: o.at, to: Infinity });
  return out;
}

/** The most intervals that hold at one instant (an interval ending as another starts does not count). */
function maxOverlap(xs: Interval[]): number {
  const events = xs.flatMap((x) => [[x.from, 1] as const, [x.to, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (n += d));
  return max;
}

async function branches(parent: string): Promise<{ id: string; status: string; branch_index: number }[]> {
  const { rows } = await c.db.pool.query("SELECT id, status, branch_index FROM jobs WHERE parent_id = $1 AND branch_index IS NOT NULL ORDER BY branch_key, branch_index", [parent]);
  return rows;
}

async function result(id: string): Promise<unknown> {
  await waitFor(`${id} to end`, async () => ["completed", "failed"].includes((await c.status([id])).get(id) ?? ""), 120_000);
  const { rows } = await c.db.pool.query("SELECT status, result, error FROM jobs WHERE id = $1", [id]);
  expect(rows[0].status, JSON.stringify(rows[0].error)).toBe("completed");
  return rows[0].result;
}

/** A parent id whose first run's branches fall in slots of both workers. */
async function parentSpreadOver(n: number): Promise<string> {
  const owners = assignSlots(c.db.slotCount, ["p1", "p2"]);
  for (;;) {
    const id = `fan-${randomUUID()}`;
    const ids = Array.from({ length: n }, (_, i) => `${id}/0.${i}`);
    const { rows } = await c.db.pool.query<{ slot: number }>("SELECT runbook_slot(id) AS slot FROM unnest($1::text[]) AS id", [ids]);
    const workers = new Set(rows.map((r) => owners[r.slot]));
    if (workers.size === 2) return id;
  }
}

it("six branches of exec sleep 2 run at once, on both workers", async () => {
  const id = await parentSpreadOver(6);
  await c.enqueue("fan_sleep", { n: 6 }, [id]);
  expect(await result(id)).toEqual([1, 2, 3, 4, 5, 6]);
  const bs = await branches(id);
  expect(bs.map((b) => b.status)).toEqual(Array(6).fill("completed"));
  const running = await intervals(bs.map((b) => b.id));
  expect(running).toHaveLength(6);
  // All six were running at one instant, on two workers: not one after another.
  expect(maxOverlap(running)).toBe(6);
  expect(new Set(running.map((r) => r.worker))).toEqual(new Set(["p1", "p2"]));
  // The body is published inside fan_sleep's version, not as a runbook of its own.
  const { rows: names } = await c.db.pool.query("SELECT name FROM runbooks WHERE name LIKE 'fan\\_sleep%' ORDER BY name");
  expect(names.map((r) => r.name)).toEqual(["fan_sleep"]);
  const { rows: v } = await c.db.pool.query("SELECT modules FROM versions v JOIN runbooks r ON r.version = v.hash WHERE r.name = 'fan_sleep'");
  expect(Object.keys(v[0].modules).sort()).toEqual(["fan_sleep", "fan_sleep__branch1"]);
  const parent = await c.history(id);
  const ms = parent[parent.length - 1].at.getTime() - parent[0].at.getTime();
  console.log(`six 2 s branches on two workers: ${ms} ms from queued to completed (sequentially: 12 s)`);
});

it("limit: 3 never has more than 3 branches started and not ended, per the job history", async () => {
  const id = `limit-${randomUUID()}`;
  await c.enqueue("fan_limit", { n: 10, ms: 200 }, [id]);
  expect(await result(id)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  const bs = await branches(id);
  expect(bs.map((b) => b.branch_index)).toEqual([...Array(10).keys()]);
  const alive = await intervals(bs.map((b) => b.id), true);
  expect(alive).toHaveLength(10);
  expect(maxOverlap(alive)).toBeLessThanOrEqual(3);
  expect(maxOverlap(await intervals(bs.map((b) => b.id)))).toBeLessThanOrEqual(3);
  // Started in element order, each once.
  const ledger = await c.ledger();
  const mine = ledger.filter((r) => r.job.startsWith(`${id}/`));
  const counts = finishedCounts(mine);
  for (let s = 1; s <= 10; s++) expect(counts.get(s), `step ${s}`).toBe(1);
});

it("kill -9 of a worker mid-fan-out: every branch completes exactly once, results in order", async () => {
  const n = 8;
  const id = await parentSpreadOver(n);
  const gates = Array.from({ length: n }, (_, i) => `${id}:${i + 1}`);
  await c.closeGates(gates);
  await c.enqueue("fan_steps", { n, gate: id }, [id]);
  await c.reached(gates);
  const victim = (await c.ledger()).find((r) => r.job.startsWith(`${id}/`) && r.worker === "p1") ? "p1" : "p2";
  await c.crash(victim);
  await c.openGates(gates);
  const want = Array.from({ length: n }, (_, i) => `done ${i + 1}`);
  expect(await result(id)).toEqual(want);
  expect(await c.outputs(id)).toEqual([want]);
  const bs = await branches(id);
  expect(bs.map((b) => b.status)).toEqual(Array(n).fill("completed"));
  for (const b of bs) {
    const h = await c.history(b.id);
    expect(h.filter((x) => x.to_status === "completed"), b.id).toHaveLength(1);
    expect(h.filter((x) => x.from_status === null), b.id).toHaveLength(1); // started once
  }
  const ledger = (await c.ledger()).filter((r) => r.job.startsWith(`${id}/`));
  for (const b of bs) expect(ledger.filter((r) => r.job === b.id && r.ended_at).length, b.id).toBe(1);
  // The victim held some of them at the gate: those were taken over.
  expect(ledger.some((r) => r.worker === victim && !r.ended_at)).toBe(true);
  await c.startWorker(victim);
});

it("on_error continue lists every failure; on_error stop stops the rest and names the element", async () => {
  const id = `errors-${randomUUID()}`;
  await c.enqueue("fan_errors", { n: 4 }, [id]);
  expect(await result(id)).toBe("caught");
  const out = (await c.outputs(id)) as unknown[];
  expect(out[0]).toBe("2 of 4 branches failed: 2: even 2; 4: even 4");
  expect(out[1]).toEqual([
    { index: 1, element: 2, error: expect.objectContaining({ message: "even 2", runbook: "fan_errors__branch1", line: 6 }) },
    { index: 3, element: 4, error: expect.objectContaining({ message: "even 4" }) },
  ]);
  expect(out[2]).toBe("branch for element 2 failed: boom");
  expect(out[3]).toEqual({ index: 1, element: 2, error: expect.objectContaining({ message: "boom", runbook: "fan_errors__branch2" }) });
  const second = (await branches(id)).slice(4);
  await waitFor("the stopped branches", async () => (await branches(id)).slice(4).every((b) => b.status !== "waiting" && b.status !== "running" && b.status !== "queued"));
  expect((await branches(id)).slice(4).map((b) => b.status)).toEqual(["stopped", "failed", "stopped", "stopped"]);
  expect(second).toHaveLength(4);
});

it("operators see the tree: job lists the branches, output --follow marks their records, suspend/resume/stop cascade", async () => {
  const n = 4;
  const id = `ops-${randomUUID()}`;
  const gates = Array.from({ length: n }, (_, i) => `${id}:${i + 1}`);
  await c.closeGates(gates);
  await c.enqueue("fan_steps", { n, gate: id }, [id]);
  const follow = c.cli(["output", id, "--follow"]);
  await c.reached(gates);
  const shown = await c.cli(["job", id]);
  expect(shown.stdout).toMatch(/^branches \(4\):$/m);
  for (let i = 0; i < n; i++) expect(shown.stdout).toMatch(new RegExp(`^  ${i + 1}  running\\s+p[12]\\s+${id}/0\\.${i}$`, "m"));
  expect((await c.cli(["job", `${id}/0.2`])).stdout).toMatch(new RegExp(`^parent:\\s+${id} \\(parallel for branch, element 3\\)$`, "m"));

  // Suspending the waiting parent suspends it at once and its running branches at their next
  // checkpoint (after the gate).
  expect((await c.cli(["suspend", id])).code).toBe(0);
  expect((await c.status([id])).get(id)).toBe("suspended");
  await c.openGates(gates);
  const ids = Array.from({ length: n }, (_, i) => `${id}/0.${i}`);
  await c.waitAll(ids, "suspended");
  expect((await c.cli(["resume", id])).code).toBe(0);
  const want = Array.from({ length: n }, (_, i) => `done ${i + 1}`);
  expect(await result(id)).toEqual(want);
  const followed = await follow;
  expect(followed.code).toBe(0);
  expect(followed.stdout.trim()).toBe(JSON.stringify(want));
  for (let i = 1; i <= n; i++) expect(followed.stderr).toContain(`[${i}] log: step ${i} done\n`);

  // Stopping a parent stops its branches that have not ended.
  const id2 = `stop-${randomUUID()}`;
  const gates2 = Array.from({ length: 2 }, (_, i) => `${id2}:${i + 1}`);
  await c.closeGates(gates2);
  await c.enqueue("fan_steps", { n: 2, gate: id2 }, [id2]);
  await c.reached(gates2);
  expect((await c.cli(["stop", id2])).code).toBe(0);
  await c.waitAll([id2, `${id2}/0.0`, `${id2}/0.1`], "stopped");
});
