// A worker's name is unique among live workers. Two live processes under one name would share one
// `workers` row: one's drain or stop would silently idle the other. Checked once, at start.
import * as os from "node:os";
import type { Queryable } from "./rows.js";
import { liveWorker } from "./sql/workers.js";

/** `Worker.start` under a name a live worker elsewhere holds. */
export class WorkerNameTaken extends Error {}

/**
 * Throws WorkerNameTaken unless the name is free: no live worker holds it, or its holder is this
 * process, or a process of this host that is gone (a restart after a crash, before its heartbeat
 * ran out).
 */
export async function refuseTakenName(db: Queryable, name: string): Promise<void> {
  const holder = await liveWorker(db, name);
  if (!holder) return;
  if (holder.host === os.hostname() && (holder.pid === process.pid || !processAlive(holder.pid))) return;
  throw new WorkerNameTaken(
    `a worker named ${name} is already running (${holder.host}:${holder.pid}, heartbeat ${(holder.heartbeat_age_ms / 1000).toFixed(1)}s ago): ` +
      `give this one another --name, or stop that one first`,
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
