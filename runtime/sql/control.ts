// Operator control of one job (suspend, resume, stop) and signals to its mailbox.
//
// Suspend and stop take effect at once on a job that is not running; on a running job they are
// recorded in jobs.control and take effect at its next checkpoint (park.ts), or when its worker
// next writes. Both notify `control`: the worker ends the job's step at its next loop tick too,
// so a job that never checkpoints parks from its latest checkpoint (runner.ts). Every action is a
// line of the job's history naming who took it (a request, a kept signal: a line with no status
// change). Every path locks the job's row first, so a worker parking the job at the same
// moment either sees the request or has already parked (then we act on the parked job).
import type pg from "pg";
import type { Json } from "../abi.js";
import { encodeJson } from "../json-text.js";
import type { JobStatus } from "../rows.js";
import { wakeAwaiters } from "./complete.js";

export type ControlVerb = "suspend" | "resume" | "stop";

export interface ControlResult {
  /** What happened, for the operator: "suspended", "suspend requested (at next checkpoint)"... */
  outcome: string;
  status: JobStatus;
}

export class ControlRefused extends Error {}

const PARKED: JobStatus[] = ["queued", "sleeping", "waiting"];

/** Inside a transaction (the row lock and the actor setting last until its commit). */
export async function controlJob(client: pg.ClientBase, id: string, verb: ControlVerb, actor: string): Promise<ControlResult> {
  const result = await controlOne(client, id, verb, actor);
  await cascadeToBranches(client, id, verb, actor);
  return result;
}

/**
 * Suspending, resuming or stopping a job does the same to its `parallel for` branches that it
 * applies to (and theirs, through this same function); the others are left as they are. In the
 * same transaction: locks go parent first, then branches, as the parent's own park takes them.
 */
async function cascadeToBranches(client: pg.ClientBase, id: string, verb: ControlVerb, actor: string): Promise<void> {
  const { rows } = await client.query<{ id: string; status: JobStatus; control: string | null }>(
    `SELECT id, status, control FROM jobs WHERE parent_id = $1 AND branch_index IS NOT NULL
       AND status NOT IN ('completed', 'failed', 'stopped') ORDER BY branch_key, branch_index FOR UPDATE`,
    [id],
  );
  const applies = (b: { status: JobStatus; control: string | null }): boolean => {
    switch (verb) {
      case "suspend":
        return b.status === "running" || PARKED.includes(b.status);
      case "resume":
        return b.status === "suspended" || (b.status === "running" && b.control !== null);
      case "stop":
        return true;
    }
  };
  for (const b of rows) if (applies(b)) await controlJob(client, b.id, verb, `${actor} (through parent ${id})`);
}

async function controlOne(client: pg.ClientBase, id: string, verb: ControlVerb, actor: string): Promise<ControlResult> {
  // Only an operator moves a job out of `suspended`; migration 0004's trigger refuses any other
  // writer, and reads who is acting from this transaction-local setting.
  await client.query("SELECT set_config('runbook.actor', $1, true)", [actor]);
  const { rows } = await client.query<{ status: JobStatus; control: string | null }>("SELECT status, control FROM jobs WHERE id = $1 FOR UPDATE", [id]);
  if (rows.length === 0) throw new ControlRefused(`no job ${id}`);
  const { status, control } = rows[0];
  const history = (to: JobStatus, reason: string) =>
    client.query("INSERT INTO job_history (job_id, from_status, to_status, worker, reason) VALUES ($1, $2, $3, NULL, $4)", [id, status, to, reason]);
  switch (verb) {
    case "suspend":
      if (status === "running") {
        await client.query("UPDATE jobs SET control = 'suspend' WHERE id = $1", [id]);
        // A request is an action too: who asked is in the history before the job parks.
        await history(status, `suspend requested by ${actor}`);
        await client.query("SELECT pg_notify('runbook', 'control')");
        return { outcome: "suspend requested: the job suspends at its next checkpoint", status };
      }
      if (!PARKED.includes(status)) throw new ControlRefused(`job ${id} is ${status}; only a queued, running, sleeping or waiting job can be suspended`);
      await client.query("UPDATE jobs SET status = 'suspended', due_at = NULL, updated_at = now() WHERE id = $1", [id]);
      await history("suspended", `suspended by ${actor}`);
      return { outcome: "suspended", status: "suspended" };
    case "resume":
      if (status === "running" && control) {
        await client.query("UPDATE jobs SET control = NULL WHERE id = $1", [id]);
        await history(status, `pending ${control} cancelled by ${actor}`);
        return { outcome: `pending ${control} cancelled`, status };
      }
      if (status !== "suspended") throw new ControlRefused(`job ${id} is ${status}, not suspended`);
      // Back to the queue: the worker that claims it re-parks it if its timer or wait is not over.
      // A job suspended while it waited for a place under its concurrency key waits again (no
      // due time); migration 0011's trigger gives it a place if one is free.
      await client.query(
        "UPDATE jobs SET status = 'queued', due_at = CASE WHEN concurrency_key IS NULL OR key_place IS NOT NULL THEN now() END, updated_at = now() WHERE id = $1",
        [id],
      );
      await history("queued", `resumed by ${actor}`);
      await client.query("SELECT pg_notify('runbook', 'jobs')");
      return { outcome: "resumed", status: "queued" };
    case "stop":
      if (status === "running") {
        await client.query("UPDATE jobs SET control = 'stop' WHERE id = $1", [id]);
        await history(status, `stop requested by ${actor}`);
        await client.query("SELECT pg_notify('runbook', 'control')");
        return { outcome: "stop requested: the job stops at its next checkpoint", status };
      }
      if (!PARKED.includes(status) && status !== "suspended") throw new ControlRefused(`job ${id} has already ended (${status})`);
      await client.query(
        "UPDATE jobs SET status = 'stopped', due_at = NULL, control = NULL, finished_at = now(), updated_at = now() WHERE id = $1",
        [id],
      );
      await history("stopped", `stopped by ${actor}`);
      await wakeAwaiters(client, [id]);
      return { outcome: "stopped", status: "stopped" };
  }
}

/**
 * Puts a signal in the job's mailbox and wakes the job if it waits for that name. The job's row
 * is locked before the insert, so a job parking on `wait` at this moment either sees the signal
 * when it looks in its mailbox or is already waiting when we look (see park.ts).
 */
export async function sendSignal(client: pg.ClientBase, id: string, name: string, payload: Json, actor = "an operator"): Promise<{ woke: boolean; status: JobStatus }> {
  const { rows } = await client.query<{ status: JobStatus; wait_signal: string | null }>(
    "SELECT status, wait_signal FROM jobs WHERE id = $1 FOR UPDATE",
    [id],
  );
  if (rows.length === 0) throw new ControlRefused(`no job ${id}`);
  const { status, wait_signal } = rows[0];
  if (status === "completed" || status === "failed" || status === "stopped") {
    throw new ControlRefused(`job ${id} has already ended (${status}); the signal was not delivered`);
  }
  await client.query("INSERT INTO signals (job_id, name, payload) VALUES ($1, $2, $3)", [id, name, encodeJson(payload, "the signal's payload")]);
  if (status !== "waiting" || wait_signal !== name) {
    // Kept for a later wait: a line (no status change) says who sent it.
    await client.query("INSERT INTO job_history (job_id, from_status, to_status, reason) VALUES ($1, $2, $2, $3)", [id, status, `signal ${name} sent by ${actor}`]);
    return { woke: false, status };
  }
  await client.query("UPDATE jobs SET status = 'queued', due_at = now(), updated_at = now() WHERE id = $1", [id]);
  await client.query(
    "INSERT INTO job_history (job_id, from_status, to_status, reason) VALUES ($1, 'waiting', 'queued', $2)",
    [id, `signal ${name} received from ${actor}`],
  );
  await client.query("SELECT pg_notify('runbook', 'jobs')");
  return { woke: true, status: "queued" };
}
