// Why a queued job is not running yet, as far as placement goes (migration 0011): it waits for a
// place under its concurrency key, or no live worker serves its group. `runbook job` shows it.
// The places themselves are given and freed by the database (runbook_key_fill and the jobs
// triggers), never by a statement here.
import type { JobRow, Queryable } from "../rows.js";

export type QueuedReason =
  /** Every place under the key is held: by these jobs (ids, oldest first). */
  | { kind: "key"; key: string; limit: number; holders: { id: string; status: string }[] }
  /** No worker of the group is alive (fresh heartbeat, not stopped, not draining). */
  | { kind: "group"; group: string };

export async function queuedReason(db: Queryable, job: JobRow): Promise<QueuedReason | null> {
  if (job.status !== "queued") return null;
  if (job.concurrency_key !== null && job.key_place === null) {
    const { rows } = await db.query<{ id: string; status: string }>(
      "SELECT id, status FROM jobs WHERE concurrency_key = $1 AND key_place IS NOT NULL ORDER BY created_at, id",
      [job.concurrency_key],
    );
    return { kind: "key", key: job.concurrency_key, limit: job.concurrency_limit ?? 0, holders: rows };
  }
  const { rows } = await db.query<{ live: number }>(
    `SELECT count(*)::int AS live FROM workers
     WHERE worker_group = $1 AND stopped_at IS NULL AND NOT draining AND heartbeat_at > now() - timeout_ms * interval '1 millisecond'`,
    [job.worker_group],
  );
  return rows[0].live === 0 ? { kind: "group", group: job.worker_group } : null;
}

/** The reason as `runbook job` prints it. */
export function reasonText(r: QueuedReason): string {
  switch (r.kind) {
    case "key": {
      const who = r.holders.map((h) => `${h.id} (${h.status})`).join(", ") || "jobs finishing now";
      return `waiting for a place under concurrency key ${r.key} (limit ${r.limit}), held by ${who}`;
    }
    case "group":
      return `no live worker in group ${r.group}: it runs when one starts (\`runbook worker --group ${r.group}\`)`;
  }
}
