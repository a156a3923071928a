// Checkpoints of several jobs in one statement (runtime/sql/checkpoint.ts writeCheckpoints, sent by
// runtime/batcher.ts CheckpointBatcher). The batch statement must write what the single-row
// statements write, each job fenced by its own epoch, and a write that fails must fail its own
// job alone.
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { CheckpointBatcher } from "../../runtime/batcher.js";
import { encodeCheckpoint, writeCheckpoints, type CheckpointWrite, type NumberedRecord } from "../../runtime/sql/checkpoint.js";
import { claimJobs } from "../../runtime/sql/claim.js";
import type { Queryable } from "../../runtime/rows.js";
import { noopJobs } from "./helpers.js";

const t = noopJobs();

interface Case {
  name: string;
  records?: NumberedRecord[];
  /** A signal sent to the job, consumed by this checkpoint. */
  signal?: boolean;
  /** An operator's control pending on the job: the checkpoint returns it. */
  control?: "suspend" | "stop";
  /** A stale epoch: nothing may be written. */
  stale?: boolean;
}

const CASES: Case[] = [
  { name: "a plain checkpoint" },
  { name: "with stream records", records: [{ seq: 1, stream: "output", value: { n: 1 } }, { seq: 2, stream: "log", value: "two" }] },
  { name: "consuming a signal", signal: true },
  { name: "with a suspend pending", control: "suspend" },
  { name: "with a lost lease", stale: true, records: [{ seq: 1, stream: "output", value: "lost" }] },
];

async function prepared(c: Case, job: { id: string; epoch: string }): Promise<CheckpointWrite> {
  let signal: string | null = null;
  if (c.signal) signal = (await t.db.pool.query<{ id: string }>("INSERT INTO signals (job_id, name, payload) VALUES ($1, 'go', '1') RETURNING id", [job.id])).rows[0].id;
  if (c.control) await t.db.pool.query("UPDATE jobs SET control = $2 WHERE id = $1", [job.id, c.control]);
  return {
    id: job.id,
    epoch: c.stale ? String(Number(job.epoch) + 1) : job.epoch,
    state: { frames: [{ runbook: "noop", pc: 3, locals: { case: c.name, big: "x".repeat(3000) } }], seq: 7 },
    label: `label of ${c.name}`,
    records: c.records ?? [],
    consumeSignal: signal,
  };
}

/** What an observer can see of the job after its checkpoint. */
async function seen(id: string, signal: string | null) {
  const row = (
    await t.db.pool.query(
      `SELECT status, state::text, checkpoint_label, checkpoints, stream_seq, checkpoint_at IS NOT NULL AS at, control, wait_signal, await_job, wait_until
       FROM jobs WHERE id = $1`,
      [id],
    )
  ).rows[0];
  const streams = (await t.db.pool.query("SELECT seq, stream, value FROM job_streams WHERE job_id = $1 ORDER BY seq", [id])).rows;
  const consumed = signal === null ? null : (await t.db.pool.query("SELECT consumed_at IS NOT NULL AS c FROM signals WHERE id = $1", [signal])).rows[0].c;
  return { row, streams, consumed };
}

async function run(c: Case, batched: boolean) {
  const [target, other] = await t.claimed(2);
  const write = await prepared(c, target);
  const input = [encodeCheckpoint(write)];
  // The other job of the batch: a plain checkpoint of its own.
  if (batched) input.push(encodeCheckpoint(await prepared({ name: "other" }, other)));
  const results = await writeCheckpoints(t.db.pool, input);
  return { result: results.get(target.id) ?? null, ...(await seen(target.id, write.consumeSignal)), otherWritten: batched ? results.has(other.id) : null };
}

describe("checkpoints of several jobs in one statement", () => {
  for (const c of CASES) {
    it(`write what a single checkpoint writes: ${c.name}`, async () => {
      const alone = await run(c, false);
      const batched = await run(c, true);
      expect(batched.otherWritten).toBe(true);
      expect({ ...batched, otherWritten: null }).toEqual(alone);
      // And what they agree on is right.
      if (c.stale) {
        expect(alone.result).toBeNull();
        expect(alone.row.checkpoints).toBe(0);
        expect(alone.streams).toEqual([]);
        return;
      }
      expect(alone.result).toEqual({ control: c.control ?? null });
      expect(alone.row.checkpoints).toBe(1);
      expect(alone.row.stream_seq).toBe(c.records?.length ?? 0);
      expect(alone.streams.map((s: { seq: number }) => s.seq)).toEqual((c.records ?? []).map((r) => r.seq));
      expect(JSON.parse(alone.row.state).frames[0].locals.case).toBe(c.name);
      if (c.signal) expect(alone.consumed).toBe(true);
    });
  }

  it("fails only the job whose write fails, and writes the others of its batch", async () => {
    const jobs = await t.claimed(3);
    const writes = await Promise.all(jobs.map((j, i) => prepared({ name: `job ${i}` }, j)));
    // A stream the table refuses (its CHECK): the batch statement fails as a whole.
    writes[1].records = [{ seq: 1, stream: "bogus" as NumberedRecord["stream"], value: 1 }];
    const batcher = new CheckpointBatcher(t.db.pool);
    // Added in one turn of the event loop: one batch.
    const outcomes = await Promise.allSettled(writes.map((w) => batcher.add(w)));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/job_streams_stream_check|violates check constraint/);
    const rows = (await t.db.pool.query<{ id: string; checkpoints: number }>("SELECT id, checkpoints FROM jobs WHERE id = ANY($1)", [jobs.map((j) => j.id)])).rows;
    expect(jobs.map((j) => rows.find((r) => r.id === j.id)!.checkpoints)).toEqual([1, 0, 1]);
  });

  it("sends a checkpoint added to an idle batcher on its own, without waiting for others; those added while it commits go together", async () => {
    const jobs = await t.claimed(7);
    const writes = await Promise.all(jobs.map((j, i) => prepared({ name: `job ${i}` }, j)));
    const statements: number[] = [];
    // Counts the jobs each statement writes: the batch statement has one parameter, the JSON list.
    const counting: Queryable = {
      query: ((q: pg.QueryConfig) => {
        statements.push(q.values!.length === 1 ? JSON.parse(q.values![0] as string).length : 1);
        return t.db.pool.query(q);
      }) as Queryable["query"],
    };
    const batcher = new CheckpointBatcher(counting, 1);
    const first = batcher.add(writes[0]);
    await new Promise((r) => setImmediate(r));
    // The first is in flight alone; the next six wait for it and then go together.
    const rest = writes.slice(1).map((w) => batcher.add(w));
    await Promise.all([first, ...rest]);
    expect(statements).toEqual([1, 6]);
  });
});

describe("a checkpoint batch racing a takeover", () => {
  it("1,000 rounds: a batch of two jobs against another worker's claim of one of them; the taken job's checkpoint lands before that claim or not at all, the other's always", async () => {
    const wrong: string[] = [];
    // How the rounds went: x written before the takeover, refused after it, or skipped by it.
    let before = 0, after = 0, skipped = 0;
    const slots = Array.from({ length: t.db.slotCount }, (_, i) => i);
    for (let i = 0; i < 1_000; i++) {
      const [x, y] = await t.claimed(2);
      // x's lease has run out: another worker may claim it now.
      await t.db.pool.query("UPDATE jobs SET due_at = now() - interval '1 second' WHERE id = $1", [x.id]);
      const writes = [await prepared({ name: `x ${i}` }, x), await prepared({ name: `y ${i}` }, y)];
      const batch = () => writeCheckpoints(t.db.pool, writes.map(encodeCheckpoint));
      const takeover = () => claimJobs(t.db.pool, "w2", slots, 10, 3_600_000);
      // Both start in either order, on separate connections, with no gate.
      const [results, taken] = i % 2 ? await Promise.all([batch(), takeover()]) : await Promise.all([takeover(), batch()]).then(([t, r]) => [r, t] as const);
      const claim = taken.find((c) => c.id === x.id);
      const row = (await t.db.pool.query("SELECT checkpoints, lease_epoch FROM jobs WHERE id = $1", [x.id])).rows[0];
      if (!claim) {
        // The claim skips a row the batch has locked (SKIP LOCKED): then the batch wrote it.
        skipped++;
        if (!results.has(x.id) || row.checkpoints !== 1 || row.lease_epoch !== x.epoch) wrong.push(`round ${i}: x neither taken over nor written`);
      } else if (results.has(x.id) ? claim.state === null || row.checkpoints !== 1 : claim.state !== null || row.checkpoints !== 0) {
        wrong.push(`round ${i}: x written ${results.has(x.id)}, the takeover saw state ${claim.state !== null}, checkpoints now ${row.checkpoints}`);
      } else if (results.has(x.id)) before++;
      else after++;
      if (!results.has(y.id)) wrong.push(`round ${i}: y's checkpoint was not written`);
      await t.db.pool.query("UPDATE jobs SET status = 'stopped', due_at = NULL, finished_at = now() WHERE id = ANY($1)", [[x.id, y.id]]);
    }
    expect(wrong).toEqual([]);
    // The takeover won some rounds: the fence was tested, not only the lock.
    expect(after).toBeGreaterThan(0);
    console.log(`checkpoint batch vs takeover: written before ${before}, refused after ${after}, skipped ${skipped}`);
  }, 300_000);
});
