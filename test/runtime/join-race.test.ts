// The race of `parallel for`'s wake-up (docs/runtime.md, Parallel branches): a branch ending at
// the very moment its parent looks at its branches and parks must either be seen by the parent
// (it goes on) or wake it once parked. Never: the parent parked `waiting` with every branch
// ended, which would leave it to the 60 s recheck (or forever, were that gone).
//
// The interleaving is driven: the test holds the branch's row locked in an explicit
// transaction, so the parent's look at its branches and the branch's final write both queue
// behind it; releasing it lets them run in either order. Then hundreds of free-running rounds.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Join, Json } from "../../runtime/abi.js";
import type { Db } from "../../runtime/db/connect.js";
import { JobLease } from "../../runtime/lease.js";
import { branchId } from "../../runtime/join.js";
import { joinPark, parkFields } from "../../runtime/protocol.js";
import { claimJobs, type ClaimedJob } from "../../runtime/sql/claim.js";
import { completeJobs, wakeAwaiters } from "../../runtime/sql/complete.js";
import { registerWorker } from "../../runtime/sql/workers.js";
import { freshDb } from "../setup/db.js";
import { enqueue, job, publish } from "./helpers.js";

const HOUR = 3_600_000;
let db: Db;
let version: string;

beforeAll(async () => {
  db = await freshDb(12);
  version = (await publish(db, [{ name: "noop", body: `return { kind: "return", value: null };` }])).get("noop")!;
  for (const name of ["parent-w", "branch-w"]) await registerWorker(db.pool, { name, host: "test", pid: 1, concurrency: 10, timeoutMs: HOUR });
});
afterAll(async () => {
  await db?.close();
});

const joinOf = (): Join => ({ runbook: "noop", args: [{}], elements: ["x"], limit: null, onError: "stop", key: 0, at: { runbook: "noop", file: "noop.runbook", line: 1, column: 1 } });
const rows = (parent: string) => (indices: number[]) => indices.map((index) => ({ id: branchId(parent, 0, index), index, label: "x", params: {} }));

async function claim(id: string, worker: string): Promise<JobLease> {
  const slot = (await job(db, id)).slot;
  const claims: ClaimedJob[] = await claimJobs(db.pool, worker, [slot], 10, HOUR);
  const mine = claims.find((c) => c.id === id);
  if (!mine) throw new Error(`could not claim ${id}`);
  return new JobLease(db.pool, worker, mine, () => undefined);
}

/**
 * The parent waits at a `parallel for` of one branch, which runs; the parent is then queued again
 * (a spurious wake) and claimed, about to look at its branch once more.
 */
async function setUp(n: number): Promise<{ parent: JobLease; branch: JobLease; branchId: string }> {
  const id = await enqueue(db, "noop", version, {}, `race-${n}-${Math.random().toString(36).slice(2)}`);
  const first = await claim(id, "parent-w");
  const join = joinOf();
  const parked = await first.parkJoin(parkFields(joinPark("new", join), { frames: [{ runbook: "noop", pc: 0, locals: { $join: join as unknown as Json } }], seq: 1 }), join, [], rows(id));
  expect(parked).toEqual({ kind: "parked", status: "waiting" });
  const b = branchId(id, 0, 0);
  const branch = await claim(b, "branch-w");
  await db.pool.query("UPDATE jobs SET status = 'queued', due_at = now() WHERE id = $1", [id]);
  const parent = await claim(id, "parent-w");
  return { parent, branch, branchId: b };
}

/** The parent looks at its branch and parks while the branch ends (and wakes its waiters). */
async function race(s: Awaited<ReturnType<typeof setUp>>, parentId: string): Promise<"went on" | "woken"> {
  const join = joinOf();
  const looking = s.parent.parkJoin(parkFields(joinPark("keep", join), { frames: [], seq: 1 }), join, [], rows(parentId));
  const ending = completeJobs(db.pool, "branch-w", [{ id: s.branchId, epoch: s.branch.epoch, status: "completed", result: 7, error: null, records: [], consumeSignal: null, reason: "completed" }]).then((r) => wakeAwaiters(db.pool, r.awaited));
  const [out] = await Promise.all([looking, ending]);
  const p = await job(db, parentId);
  expect((await job(db, s.branchId)).status).toBe("completed");
  if (out.kind === "continue") {
    expect(out.input).toEqual({ value: [7] });
    return "went on";
  }
  // Parked before the branch's end committed: the end woke it.
  expect(out).toEqual({ kind: "parked", status: "waiting" });
  expect(p.status).toBe("queued");
  return "woken";
}

it("driven: both wait on the branch's row; whichever goes first, the parent is never left waiting", async () => {
  const s = await setUp(0);
  const parentId = s.parent.id;
  const gate = await db.pool.connect();
  try {
    await gate.query("BEGIN");
    await gate.query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", [s.branchId]);
    const result = race(s, parentId);
    // Both the parent's look and the branch's final write are queued behind the gate.
    for (const started = Date.now(); ; ) {
      // Without the parent's lock on its branches only the final write would wait here.
      if (Date.now() - started > 20_000) throw new Error("the parent's look at its branches did not wait on the branch's row lock");
      const { rows: w } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
      if (w[0].n >= 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await gate.query("COMMIT");
    console.log(`driven race: the parent ${await result}`);
  } finally {
    gate.release();
  }
});

it("free-running: 300 rounds, never a parent waiting on ended branches", async () => {
  const seen = { "went on": 0, woken: 0 };
  for (let i = 1; i <= 300; i++) {
    const s = await setUp(i);
    seen[await race(s, s.parent.id)]++;
  }
  console.log(`300 rounds: the parent went on at once ${seen["went on"]} times, was parked then woken ${seen.woken} times`);
  expect(seen["went on"] + seen.woken).toBe(300);
}, 600_000);
