// The classic failover demo, end to end with the CLI: two workers, runbooks/test_failover with 6
// loops started on one of them; that worker is drained mid-run and `runbook deploy` names only
// the other. The job completes there, and the demo_log rows written by its WriteLog calls show
// every loop exactly once, in order.
//
// "Mid-run" is made certain, not hoped for: the test holds the third loop's demo_log INSERT on an
// advisory lock it owns (a trigger on the demo's table), drains the worker while the job waits
// there, then lets the INSERT through: the job reaches its checkpoint and hands over there.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, LONG_TIMEOUT_MS, waitFor } from "./harness.js";

const GATE_KEY = 4_242;
let c: Cluster;
let gate: pg.Client;
beforeAll(async () => {
  c = await Cluster.create(["runbooks"], { timeoutMs: LONG_TIMEOUT_MS });
  // In the database the runbooks' sql() runs on (the sandbox): the demo's table as WriteLog
  // makes it (its CREATE TABLE IF NOT EXISTS then leaves it be), with the test's gate: the INSERT
  // of loop 3 waits for the advisory lock this session holds.
  gate = new pg.Client({ connectionString: c.sqlUrl });
  await gate.connect();
  await gate.query(`CREATE TABLE demo_log (
    id bigserial PRIMARY KEY,
    run text NOT NULL,
    loop integer NOT NULL,
    message text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`);
  await gate.query(`CREATE FUNCTION demo_gate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- (to_jsonb: "loop" is a PL/pgSQL keyword, NEW.loop does not parse as a field.)
      IF to_jsonb(NEW)->>'loop' = '3' THEN PERFORM pg_advisory_xact_lock_shared(${GATE_KEY}); END IF;
      RETURN NEW;
    END $$`);
  await gate.query("CREATE TRIGGER demo_gate BEFORE INSERT ON demo_log FOR EACH ROW EXECUTE FUNCTION demo_gate()");
  await gate.query("SELECT pg_advisory_lock($1)", [GATE_KEY]);
  await Promise.all([c.startWorker("demo-a"), c.startWorker("demo-b")]);
  await c.settle(["demo-a", "demo-b"]);
});
afterAll(async () => {
  await gate?.end().catch(() => undefined);
  await c?.destroy();
});

/** The rows WriteLog wrote, in the database its `sql()` runs on (the sandbox, not the runtime's). */
async function demoLog(): Promise<{ run: string; loop: number; written_at: Date }[]> {
  return (await gate.query<{ run: string; loop: number; written_at: Date }>("SELECT run, loop, written_at FROM demo_log ORDER BY id")).rows;
}

it("test_failover: drained mid-run, redeployed to the other worker, every loop logged once in order", async () => {
  const [id] = await c.idsOwnedBy("demo-a", ["demo-a", "demo-b"], 1, "demo");
  const started = await c.cli(["start", "test_failover", "--param", "loops=6", "--param", "pause=500ms", "--id", id]);
  expect(started).toMatchObject({ code: 0, stdout: `${id}\n` });
  // Loops 1 and 2 written; loop 3's INSERT waits at the gate, on demo-a.
  await waitFor("loop 3 held at the gate", async () => {
    const { rows } = await gate.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      [GATE_KEY],
    );
    return rows[0].n === 1;
  }, 60_000);
  expect((await demoLog()).map((r) => r.loop)).toEqual([1, 2]);
  expect(await c.db.pool.query("SELECT status, worker FROM jobs WHERE id = $1", [id]).then((r) => r.rows[0])).toEqual({ status: "running", worker: "demo-a" });

  const drain = c.cli(["drain", "demo-a", "--timeout", "60s"]);
  await c.said("demo-a", /worker demo-a is draining/);
  await gate.query("SELECT pg_advisory_unlock($1)", [GATE_KEY]);
  const drained = await drain;
  expect(drained.code).toBe(0);
  expect(drained.stdout).toMatch(/demo-a has drained and stopped\n$/);
  expect(await c.worker("demo-a").exited).toBe(0);
  const deployed = await c.cli(["deploy", "--workers", "demo-b"]);
  expect(deployed.stdout).toMatch(/^deployment generation \d+: demo-b\n$/);
  expect(deployed.stderr).toBe("");
  const shown = await c.cli(["deploy"]);
  expect(shown.stdout).toMatch(/^ {2}demo-b: alive, 256 slots$/m);

  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 60_000);
  const rows = await demoLog();
  expect(rows.map((r) => r.loop)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(new Set(rows.map((r) => r.run)).size).toBe(1);
  const history = await c.history(id);
  const claims = history.filter((h) => h.to_status === "running");
  expect(claims[0].worker).toBe("demo-a");
  expect(claims.at(-1)!.worker).toBe("demo-b");
  // Handed over at the checkpoint after loop 3: loops 1-3 written before, 4-6 after, by demo-b.
  const handover = history.find((h) => h.worker === "demo-a" && h.from_status === "running" && h.to_status === "queued")!;
  expect(handover.reason).toBe("worker demo-a is draining");
  expect(rows.filter((r) => r.written_at < handover.at).map((r) => r.loop)).toEqual([1, 2, 3]);
  expect(history.filter((h) => h.at > handover.at && h.to_status === "running").every((h) => h.worker === "demo-b")).toBe(true);
  const outputs = await c.outputs(id);
  expect(outputs.slice(1)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `loop ${i} written`));
  const job = JSON.parse((await c.cli(["job", id, "--json"])).stdout);
  expect(job.status ?? job.job?.status).toBe("completed");
});
