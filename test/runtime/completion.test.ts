// The completion statements (runtime/sql/complete.ts) must write the same thing whichever one a
// job's completion takes: a quiet UPDATE (a completion no one awaits, nothing else to write: one
// job or several), the single-row statement with its history row, or the batch statement. Each
// case runs alone, beside a second job in the same case (so a batch: the quiet one, or the full
// one for the other cases and for quiet ones it did not write), and beside a job that has a
// stream record (always the full batch statement). The job row, its history rows and what the
// call returns must agree.
import { describe, expect, it } from "vitest";
import { completeJobs, type Completion } from "../../runtime/sql/complete.js";
import { noopJobs } from "./helpers.js";

const t = noopJobs();

interface Case {
  name: string;
  status: Completion["status"];
  /** Set on the row after the claim, as an operator's stop or an awaiting parent would. */
  control?: "stop";
  awaited?: boolean;
  /** The completion carries a stale epoch: nothing may be written. */
  stale?: boolean;
}

const CASES: Case[] = [
  { name: "completed", status: "completed" },
  { name: "completed, awaited by another job", status: "completed", awaited: true },
  { name: "failed", status: "failed" },
  { name: "failed under an operator's stop", status: "failed", control: "stop" },
  { name: "stopped", status: "stopped" },
  { name: "completed with a lost lease", status: "completed", stale: true },
];

type Beside = "alone" | "beside a job like it" | "beside a job with a record";

/** Runs a case with its company; returns what an observer can see of its job. */
async function run(c: Case, beside: Beside) {
  const [target, other] = await t.claimed(beside === "alone" ? 1 : 2);
  const like = beside === "beside a job like it";
  for (const j of like ? [target, other] : [target]) {
    if (c.control || c.awaited) await t.db.pool.query("UPDATE jobs SET control = $2, awaited = $3 WHERE id = $1", [j.id, c.control ?? null, c.awaited ?? false]);
  }
  const completion = (id: string, epoch: string, s: Case, records: Completion["records"] = []): Completion => ({
    id,
    epoch: s.stale ? String(Number(epoch) + 1) : epoch,
    status: s.status,
    result: s.status === "completed" ? { ok: 1 } : null,
    error: s.status === "completed" ? null : { message: "boom", runbook: "noop", file: "noop.runbook", line: 1, column: 1, data: null },
    records,
    consumeSignal: null,
    reason: `reason for ${s.status}`,
  });
  const batch = [completion(target.id, target.epoch, c)];
  if (like) batch.push(completion(other.id, other.epoch, c));
  if (beside === "beside a job with a record") batch.push(completion(other.id, other.epoch, { name: "other", status: "completed" }, [{ seq: 1, stream: "output", value: "hi" }]));
  const r = await completeJobs(t.db.pool, "w", batch);
  const row = (
    await t.db.pool.query(
      `SELECT status, result::text, error::text, due_at IS NULL AS no_due, finished_at IS NOT NULL AS finished, control,
              wait_signal, await_job, wait_until FROM jobs WHERE id = $1`,
      [target.id],
    )
  ).rows[0];
  const history = (await t.db.pool.query("SELECT from_status, to_status, worker, reason FROM job_history WHERE job_id = $1 AND from_status = 'running' ORDER BY id", [target.id])).rows;
  return { written: r.written.has(target.id), awaited: r.awaited.includes(target.id), row, history };
}

describe("the completion statements", () => {
  for (const c of CASES) {
    it(`write the same thing: ${c.name}`, async () => {
      const alone = await run(c, "alone");
      expect(await run(c, "beside a job like it")).toEqual(alone);
      expect(await run(c, "beside a job with a record")).toEqual(alone);
      // And what they agree on is right.
      expect(alone.written).toBe(!c.stale);
      if (c.stale) {
        expect(alone.row.status).toBe("running");
        return;
      }
      expect(alone.row.status).toBe(c.control === "stop" ? "stopped" : c.status);
      expect(alone.awaited).toBe(c.awaited ?? false);
      expect(alone.history.map((h: { to_status: string }) => h.to_status)).toEqual(
        c.status === "completed" && !c.awaited ? [] : [alone.row.status],
      );
    });
  }
});
