// Worker groups, concurrency keys and priority with real `runbook worker` processes (issue 14):
// a group with no live worker, then one joining; `concurrency (key: host, limit: 1)` with five
// jobs for one host and one for another on two workers, one of them killed with kill -9 while it
// holds a place; priority order. Jobs are held where the test wants them by gates (ledger.ts),
// and "it stays queued" is shown after the worker has demonstrably claimed something queued later.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, FIXTURES, overlaps, waitFor } from "./harness.js";

const DIR = `${FIXTURES}/placement`;
let c: Cluster;

beforeAll(async () => {
  c = await Cluster.create([DIR]);
  await c.startWorker("g0");
  await c.startWorker("k2");
  await c.synced(["g0", "k2"]);
});
afterAll(async () => {
  await c?.destroy();
});

async function start(args: string[]): Promise<string> {
  const r = await c.cli(["start", ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

/** [first time running, time ended] of a job, from its history. */
async function runSpan(id: string): Promise<[number, number]> {
  const h = await c.history(id);
  const run = h.find((x) => x.to_status === "running");
  const end = h.find((x) => ["completed", "failed", "stopped"].includes(x.to_status));
  if (!run || !end) throw new Error(`job ${id} has not run to its end: ${h.map((x) => x.to_status).join(", ")}`);
  return [run.at.getTime(), end.at.getTime()];
}

/** Pairs of jobs whose spans from first claim to end overlap: they ran at once. */
async function concurrentPairs(ids: string[]): Promise<string[]> {
  const spans = await Promise.all(ids.map(runSpan));
  const out: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) if (spans[i][0] < spans[j][1] && spans[j][0] < spans[i][1]) out.push(`${ids[i]} & ${ids[j]}`);
  }
  return out;
}

describe("worker groups", () => {
  it("a job for a group with no live worker stays queued and says why; it runs once a worker of the group joins", async () => {
    const sent = await start(["tick", "--group", "dc1"]);
    const declared = await start(["in_dc1"]);
    // The default group's workers claim a job queued after those two: they had the chance.
    const later = await start(["tick"]);
    await c.waitAll([later], "completed");
    expect(await c.status([sent, declared])).toEqual(new Map([[sent, "queued"], [declared, "queued"]]));
    const shown = await c.cli(["job", sent]);
    expect(shown.stdout).toMatch(/^waiting: +no live worker in group dc1: it runs when one starts \(`runbook worker --group dc1`\)$/m);
    expect(shown.stdout).toMatch(/^group: +dc1$/m);
    const json = JSON.parse((await c.cli(["job", declared, "--json"])).stdout);
    expect([json.job.worker_group, json.waiting]).toEqual(["dc1", { kind: "group", group: "dc1" }]);

    await c.startWorker("d1", { group: "dc1" });
    await c.waitAll([sent, declared], "completed");
    for (const id of [sent, declared]) expect((await c.history(id)).find((h) => h.to_status === "running")?.worker).toBe("d1");
    expect((await c.history(later)).find((h) => h.to_status === "running")?.worker).not.toBe("d1");

    const workers = JSON.parse((await c.cli(["workers", "--json"])).stdout);
    expect(Object.fromEntries(workers.workers.map((w: { name: string; group: string }) => [w.name, w.group]))).toEqual({ d1: "dc1", g0: "default", k2: "default" });
    expect((await c.cli(["workers"])).stdout).toMatch(/^d1 +alive .* dc1$/m);
    // Its own deployment: d1 alone owns all of dc1's slots, g0 and k2 share the default group's.
    const deployment = JSON.parse((await c.cli(["deploy", "--group", "dc1", "--json"])).stdout);
    expect(deployment.workers).toEqual([{ name: "d1", state: "alive", slots: c.db.slotCount }]);
    expect(JSON.parse((await c.cli(["deploy", "--json"])).stdout).workers.map((w: { name: string }) => w.name)).toEqual(["g0", "k2"]);
  });
});

describe("concurrency keys", () => {
  it("five jobs for one host and one for another on two workers: never two of the first at once, the other not held back", async () => {
    await c.closeGates(["web1:1"]);
    const web1: string[] = [];
    for (let i = 0; i < 5; i++) web1.push(await start(["patch_host", "--param", "host=web1", "--param", "gate=web1"]));
    const web2 = await start(["patch_host", "--param", "host=web2", "--param", "gate="]);
    await c.reached(["web1:1"]);
    // The first holds web1 at the gate; web2's job is not held back by it.
    await c.waitAll([web2], "completed");
    const { rows } = await c.db.pool.query<{ id: string; status: string; key_place: number | null }>(
      "SELECT id, status, key_place FROM jobs WHERE id = ANY($1) ORDER BY created_at",
      [web1],
    );
    expect(rows.map((r) => [r.status, r.key_place])).toEqual([["running", 0], ...Array(4).fill(["queued", null])]);
    const waiting = await c.cli(["job", web1[3]]);
    expect(waiting.stdout).toContain(`waiting:    waiting for a place under concurrency key patch_host:web1 (limit 1), held by ${web1[0]} (running)`);

    await c.openGates(["web1:1"]);
    await c.waitAll(web1, "completed", 120_000);
    expect(await concurrentPairs(web1)).toEqual([]);
    // They ran in the order they were started.
    const spans = await Promise.all(web1.map(runSpan));
    expect(spans.map((s) => s[0])).toEqual([...spans.map((s) => s[0])].sort((a, b) => a - b));
    expect(overlaps(await c.ledger())).toEqual([]);
  });

  it("a holder's worker killed with kill -9: the job keeps its place through the takeover, its waiter waits for the end", async () => {
    await c.closeGates(["crash:1"]);
    const [holder, waiter] = [
      await start(["patch_host", "--param", "host=web3", "--param", "gate=crash"]),
      await start(["patch_host", "--param", "host=web3", "--param", "gate=crash"]),
    ];
    await c.reached(["crash:1"]);
    const { rows } = await c.db.pool.query<{ worker: string }>("SELECT worker FROM jobs WHERE id = $1", [holder]);
    await c.crash(rows[0].worker);
    // The survivor takes the holder over once its lease expires; the waiter is never claimed.
    await waitFor("the holder taken over", async () => (await c.history(holder)).filter((h) => h.to_status === "running").length === 2, 60_000);
    expect(await c.status([waiter])).toEqual(new Map([[waiter, "queued"]]));
    expect((await c.db.pool.query("SELECT key_place FROM jobs WHERE id = $1", [holder])).rows[0].key_place).toBe(0);
    await c.openGates(["crash:1"]);
    await c.waitAll([holder, waiter], "completed", 60_000);
    expect(await concurrentPairs([holder, waiter])).toEqual([]);
  });
});

describe("priority", () => {
  it("runs the highest priority first among due jobs, then the oldest", async () => {
    // Queued while no worker of group prio is alive, then one worker claiming one job at a time.
    const ids: string[] = [];
    for (const p of ["0", "5", "-1", "5", "2"]) ids.push(await start(["tick", "--group", "prio", "--priority", p]));
    await c.startWorker("p1", { group: "prio", concurrency: 1, env: { RUNBOOK_CLAIM_BATCH: "1" } });
    await c.waitAll(ids, "completed");
    const starts = await Promise.all(ids.map(runSpan));
    const order = ids.map((id, i) => [id, starts[i][0]] as const).sort((a, b) => a[1] - b[1]).map(([id]) => id);
    expect(order).toEqual([ids[1], ids[3], ids[4], ids[0], ids[2]]);
    const bad = await c.cli(["start", "tick", "--priority", "high"]);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, "runbook: --priority high is not a whole number"]);
  });
});
