// The claim's plan (runtime/sql/claim.ts): on a table of many finished jobs of one version, the
// claim walks jobs_claim_order and stops after LIMIT rows, in both plans PostgreSQL gives a
// prepared statement: the custom plan of its first executions and the generic plan it keeps
// after them. Before, the generic plan expected no row to pass the refused-versions test and
// fetched and sorted every due job instead: with 1,000,000 finished jobs, 20,000 rows to claim
// 500 (bench/growth, docs/BENCHMARKS.md). The statement explained is the claim itself,
// CLAIM_TEXT, run inside a transaction that is rolled back.
import { beforeAll, describe, expect, it } from "vitest";
import { claimPlan, nextDuePlan, noopJobs, pickedScan } from "./helpers.js";

const FINISHED = 200_000;
const DUE = 10_000;
const LIMIT = 100;

const t = noopJobs();

beforeAll(async () => {
  // Finished jobs as a worker leaves them, then due ones (queued, and some with a lease that
  // expired: running), all of the one published version.
  await t.db.pool.query(
    `INSERT INTO jobs (id, runbook, version, slot, status, params, worker, lease_epoch, created_at, started_at, updated_at, finished_at)
     SELECT 'done-' || g, 'noop', $1, runbook_slot('done-' || g), 'completed', '{}', 'w', 1, now(), now(), now(), now()
     FROM generate_series(1, $2::int) g`,
    [t.version, FINISHED],
  );
  await t.db.pool.query(
    `INSERT INTO jobs (id, runbook, version, slot, status, params, due_at, worker, lease_epoch)
     SELECT 'due-' || g, 'noop', $1, runbook_slot('due-' || g), CASE WHEN g % 10 = 0 THEN 'running' ELSE 'queued' END, '{}',
            now() - interval '1 hour' + g * interval '1 ms', CASE WHEN g % 10 = 0 THEN 'gone' END, CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END
     FROM generate_series(1, $2::int) g`,
    [t.version, DUE],
  );
  await t.db.pool.query("ANALYZE jobs");
}, 120_000);

describe("the claim's plan on a table of many finished jobs of one version", () => {
  const all = () => Array.from({ length: t.db.slotCount }, (_, i) => i);

  for (const mode of ["force_generic_plan", "force_custom_plan"] as const) {
    it(`walks jobs_claim_order and stops after LIMIT rows (${mode})`, async () => {
      const plan = await claimPlan(t.db, mode, { slots: all(), limit: LIMIT });
      if (process.env.SHOW_PLAN) console.log(plan);
      const scan = pickedScan(plan);
      expect(scan.line).toMatch(/Index Scan using jobs_claim_order/);
      // Every due job is claimable by a worker owning all slots: the first LIMIT rows do.
      expect(scan.rows).toBe(LIMIT);
      expect(plan).toMatch(new RegExp(`Update on jobs j[\\s\\S]*actual rows=${LIMIT} `));
    });
  }

  it("steps over the slots a worker does not own without sorting the rest (generic plan)", async () => {
    const half = all().filter((s) => s % 2 === 0);
    const scan = pickedScan(await claimPlan(t.db, "force_generic_plan", { slots: half, limit: LIMIT }));
    expect(scan.line).toMatch(/Index Scan using jobs_claim_order/);
    expect(scan.rows).toBe(LIMIT);
  });
});

// The next-due query (nextDue, a named statement since it runs at every idle poll): both plans
// find the window's bounds through jobs_claimable's due time, and read no entry outside it (the
// 10,000 due jobs are an hour old, the window is a second either side of now).
describe("the next-due query's plan", () => {
  for (const mode of ["force_generic_plan", "force_custom_plan"] as const) {
    it(`reads only the window through jobs_claimable (${mode})`, async () => {
      const plan = await nextDuePlan(t.db, mode, 1000);
      if (process.env.SHOW_PLAN) console.log(plan);
      const scan = plan.split("\n").find((l) => / on jobs( |$)/.test(l));
      expect(scan).toMatch(/Index (Only )?Scan.* using jobs_claimable on jobs .*rows=0 /);
      // The window bounds the index scan; as a filter, the same scan reads and removes all
      // 10,000 due jobs ("Rows Removed by Filter: 10000") and still returns none.
      expect(plan).toMatch(/Index Cond: \(\(due_at > .*\) AND \(due_at < /);
      expect(plan).not.toMatch(/Rows Removed by Filter/);
    });
  }
});
