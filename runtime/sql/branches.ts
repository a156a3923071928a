// The branch jobs of `parallel for` (runtime/join.ts decides; these read and write). Every
// statement runs inside the parent's fenced transaction (lease.ts `parkJoin`), after its row
// lock: only the parent, holding its lease, starts or stops its branches.
import type { JobState, Json } from "../abi.js";
import { encodeJson } from "../json-text.js";
import type { BranchRow } from "../join.js";
import type { JobStatus, Queryable } from "../rows.js";
import { CHANNEL } from "./enqueue.js";

export interface NewBranch {
  id: string;
  index: number;
  label: string;
  params: Record<string, Json>;
  /** Its first state, when its arguments hold a sealed secret (as for `start`). */
  state?: JobState;
}

/**
 * The branches of one run, each locked (FOR SHARE): a branch ending at this moment has either
 * committed (we see it ended) or waits for our park to commit, and its final write then wakes
 * us (complete.ts `wakeAwaiters`). The same order of locks as `markAwaited` for `await`.
 */
export async function lockBranches(db: Queryable, parent: string, key: number): Promise<BranchRow[]> {
  const { rows } = await db.query<{ branch_index: number; status: JobStatus; result: unknown; error: unknown }>(
    "SELECT branch_index, status, result, error FROM jobs WHERE parent_id = $1 AND branch_key = $2 AND branch_index IS NOT NULL ORDER BY branch_index FOR SHARE",
    [parent, key],
  );
  return rows.map((r) => ({ index: r.branch_index, status: r.status, result: r.result, error: r.error }));
}

/** Queues branches on the parent's version; `awaited`, so each one's final write wakes the parent. */
export async function insertBranches(db: Queryable, parent: { id: string; worker: string }, runbook: string, key: number, branches: NewBranch[]): Promise<number> {
  // Named, as the enqueue (sql/enqueue.ts): planned once per connection, not at every start.
  const { rows } = await db.query<{ id: string }>({
    name: "runbook_insert_branches",
    text: `WITH input AS (
       SELECT * FROM json_to_recordset($1::json) AS x(id text, index int, label text, params text, state text)
     ), inserted AS (
       -- A branch runs in its parent's group at its priority (migration 0011); its body declares
       -- no concurrency key, so it holds no place of its own.
       INSERT INTO jobs (id, runbook, version, parent_id, slot, status, params, state, due_at, awaited, branch_key, branch_index, branch_label, worker_group, priority)
       SELECT x.id, $2, p.version, $3, runbook_slot(x.id), 'queued', x.params::json, x.state::json, now(), true, $4, x.index, x.label, p.worker_group, p.priority
       FROM input x, (SELECT version, worker_group, priority FROM jobs WHERE id = $3) p
       ON CONFLICT DO NOTHING
       RETURNING id, branch_label
     ), history AS (
       INSERT INTO job_history (job_id, from_status, to_status, worker, reason)
       SELECT id, NULL, 'queued', $5, 'branch ' || branch_label || ' of parallel for started by job ' || $3 FROM inserted
     )
     SELECT id, pg_notify('${CHANNEL}', 'jobs') FROM inserted`,
    values: [
      JSON.stringify(
        branches.map((b) => ({
          id: b.id,
          index: b.index,
          label: b.label,
          params: encodeJson(b.params, "a branch's parameters"),
          state: b.state ? encodeJson(b.state, "a branch's state") : null,
        })),
      ),
      runbook,
      parent.id,
      key,
      parent.worker,
    ],
  });
  return rows.length;
}

/** The ids of the branches of one run that have not ended, in element order. */
export async function unfinishedBranches(db: Queryable, parent: string, key: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM jobs WHERE parent_id = $1 AND branch_key = $2 AND branch_index IS NOT NULL AND status NOT IN ('completed', 'failed', 'stopped') ORDER BY branch_index",
    [parent, key],
  );
  return rows.map((r) => r.id);
}
