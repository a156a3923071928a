// A job's history as operators read it (runtime/sql/inspect.ts jobsHistory): rows of job_history,
// plus the first claim and a quiet completion, which migration 0008 no longer writes there and
// the job row says.
import { describe, expect, it } from "vitest";
import { jobHistory } from "../../runtime/sql/inspect.js";
import { noopJobs } from "./helpers.js";

const t = noopJobs();

describe("a job's history", () => {
  it("shows the first claim when a signal row carries the claim's own time", async () => {
    const [job] = await t.claimed(1);
    // A signal whose transaction began before the claim's, then waited on the claim's row lock:
    // its row says running -> running, at the claim's start time (the CLI's `start --wait` test
    // met this on a busy machine, and the claim row went missing).
    await t.db.pool.query(
      `INSERT INTO job_history (job_id, at, from_status, to_status, reason)
       SELECT id, started_at, 'running', 'running', 'signal approve sent by operator test' FROM jobs WHERE id = $1`,
      [job.id],
    );
    const rows = await jobHistory(t.db.pool, job.id);
    const seen = rows.map((r) => `${r.from_status ?? "-"}->${r.to_status} ${r.worker ?? ""}`.trim());
    // The two rows share a time, so their order between them is the query's; both must be there.
    expect([...seen].sort()).toEqual(["-->queued", "queued->running w", "running->running"]);
  });
});
