// The classic failover demo, end to end with the CLI: two workers, runbooks/test_failover with 6
// loops 1 s apart started on one of them; that worker is drained mid-run and `runbook deploy`
// names only the other. The job completes there, and the demo_log rows written by its WriteLog
// calls show every loop exactly once, in order.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, waitFor } from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await Cluster.create(["runbooks"]);
  await Promise.all([c.startWorker("demo-a"), c.startWorker("demo-b")]);
  await c.settle(["demo-a", "demo-b"]);
});
afterAll(async () => {
  await c?.destroy();
});

/** The rows WriteLog wrote, in the database its `sql()` runs on (the sandbox, not the runtime's). */
async function demoLog(): Promise<{ run: string; loop: number }[]> {
  const client = new pg.Client({ connectionString: c.sqlUrl });
  await client.connect();
  try {
    const r = await client.query<{ run: string; loop: number }>("SELECT run, loop FROM demo_log ORDER BY id").catch(() => null);
    return r?.rows ?? [];
  } finally {
    await client.end();
  }
}

it("test_failover: drained mid-run, redeployed to the other worker, every loop logged once in order", async () => {
  const [id] = await c.idsOwnedBy("demo-a", ["demo-a", "demo-b"], 1, "demo");
  const started = await c.cli(["start", "test_failover", "--param", "loops=6", "--param", "pause=1s", "--id", id]);
  expect(started).toMatchObject({ code: 0, stdout: `${id}\n` });
  await waitFor("two loops logged", async () => (await demoLog()).length >= 2, 20_000);

  const drained = await c.cli(["drain", "demo-a", "--timeout", "10s"]);
  expect(drained.code).toBe(0);
  expect(drained.stdout).toMatch(/demo-a has drained and stopped\n$/);
  expect(await c.worker("demo-a").exited).toBe(0);
  const deployed = await c.cli(["deploy", "--workers", "demo-b"]);
  expect(deployed.stdout).toMatch(/^deployment generation \d+: demo-b\n$/);
  expect(deployed.stderr).toBe("");
  const shown = await c.cli(["deploy"]);
  expect(shown.stdout).toMatch(/^ {2}demo-b: alive, 256 slots$/m);
  const loopsBefore = (await demoLog()).length;
  expect(loopsBefore).toBeLessThan(6);

  await waitFor("the job to complete", async () => (await c.status([id])).get(id) === "completed", 30_000);
  const rows = await demoLog();
  expect(rows.map((r) => r.loop)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(new Set(rows.map((r) => r.run)).size).toBe(1);
  const history = await c.history(id);
  const claims = history.filter((h) => h.to_status === "running");
  expect(claims[0].worker).toBe("demo-a");
  expect(claims.at(-1)!.worker).toBe("demo-b");
  const outputs = await c.outputs(id);
  expect(outputs.slice(1)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `loop ${i} written`));
  const job = JSON.parse((await c.cli(["job", id, "--json"])).stdout);
  expect(job.status ?? job.job?.status).toBe("completed");
});
