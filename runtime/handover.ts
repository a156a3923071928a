// Giving running jobs back. A job whose slot moved to another worker (a redeploy, a worker
// joining) hands over at its next checkpoint: runner.ts asks `handOver` there and parks the job
// queued. One that reaches no checkpoint in time is interrupted and released from its latest
// checkpoint instead, here. A stopping worker's jobs go the same two ways (worker.ts); claimed
// jobs that never started go back to the queue at once.
import type { ClaimQueue, Held } from "./claim-queue.js";

export type { HandOver } from "./protocol.js";

/** True when `p` fulfils within `ms`, false when the time runs out first. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export class Handovers {
  /** When each running job was first seen in a slot this worker no longer owns. */
  private readonly movedSince = new Map<string, number>();

  constructor(
    private readonly jobs: ClaimQueue,
    private readonly o: { handoverTimeoutMs: number; leaseMs: number; log(line: string): void },
  ) {}

  /** The job has left this worker. */
  forget(id: string): void {
    this.movedSince.delete(id);
  }

  /**
   * Jobs in slots this worker no longer owns: claimed ones not yet started go back to the queue
   * at once; running ones hand over at their next checkpoint, or are released from their latest
   * checkpoint once `handoverTimeoutMs` passes without one.
   */
  async leaveMovedSlots(owned: ReadonlySet<number>): Promise<void> {
    const now = performance.now();
    for (const [id, held] of this.jobs.held) {
      const slot = held.claim.slot;
      if (owned.has(slot)) {
        this.movedSince.delete(id);
        continue;
      }
      if (this.jobs.isWaiting(held)) {
        this.jobs.unqueue(held);
        await held.lease.release(`slot ${slot} moved to another worker before the job started`).catch(() => false);
        continue;
      }
      if (held.lease.lost) continue; // already interrupted, or lost: its runner is leaving
      const since = this.movedSince.get(id) ?? now;
      this.movedSince.set(id, since);
      if (now - since >= this.o.handoverTimeoutMs) {
        this.movedSince.delete(id);
        void this.interrupt(held, `interrupted: slot ${slot} moved to another worker and the job reached no checkpoint in ${this.o.handoverTimeoutMs} ms`);
      }
    }
  }

  /**
   * Interrupts a running job and gives it back from its latest checkpoint. Its runner is stopped
   * first (nothing more written for the job, the activities' abort signal fired) and the lease
   * released once the runner has left: released at once, a call in flight would run on while
   * the job's next owner starts it (measured: a 2.5 s call overlapped the new owner by 1 s). A
   * call that ignores the signal is waited for up to min(5 s, the lease timeout), then the job
   * is released anyway (it cannot be stopped from here) and the overlap is logged.
   */
  async interrupt(held: Held, reason: string): Promise<void> {
    held.lease.interrupt(reason);
    const settleMs = Math.min(5_000, this.o.leaseMs);
    const left = await within(held.done.catch(() => undefined), settleMs);
    if (!left) this.o.log(`job ${held.claim.id} is still in an activity ${settleMs} ms after it was interrupted (the activity ignores ctx.signal); released anyway: that call may overlap with the job's next owner`);
    await held.lease.release(reason).catch(() => false);
  }
}
