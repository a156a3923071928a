// The worker's heartbeat and what it learns. Every `heartbeatMs` one statement renews the worker
// row and every lease it holds (sql/workers.ts), and reads the deployment and who is alive; the
// worker recomputes its slots from that view. A lease the statement did not renew was taken over
// or ended elsewhere: its job is marked lost, so its runner writes nothing more.
import type pg from "pg";
import type { Held } from "./claim-queue.js";
import { heartbeat, type View } from "./sql/workers.js";

export interface HeartbeatOptions {
  pool: pg.Pool;
  worker: string;
  leaseMs: number;
  /** The jobs whose lease this worker holds, by id. */
  held: ReadonlyMap<string, Held>;
  /** A stopping worker keeps renewing but marks nothing lost (its jobs are leaving anyway). */
  stopping(): boolean;
  /** What the heartbeat read. */
  onView(view: View): void;
  log(line: string): void;
}

export class Heartbeat {
  private beating = false;

  constructor(private readonly o: HeartbeatOptions) {}

  /**
   * The periodic heartbeat, one at a time: against a slow or unreachable database (a partition)
   * they piled up, one per period, each holding a pool connection the jobs' writes then waited
   * for (6 heartbeats in flight after a 4 s partition, with 8 connections).
   */
  tick(): void {
    if (this.beating) return;
    this.beating = true;
    void this.beat()
      .catch((e) => this.o.log(`heartbeat failed: ${(e as Error).message}`))
      .finally(() => (this.beating = false));
  }

  /** One heartbeat: renew, detect lost leases, hand the view on. */
  async beat(): Promise<void> {
    const held = [...this.o.held.values()].map((h) => ({ id: h.claim.id, epoch: h.lease.epoch }));
    const sent = performance.now();
    const view = await heartbeat(this.o.pool, this.o.worker, held, this.o.leaseMs);
    const renewed = new Set(view.renewed);
    const extended = new Set(view.extended);
    for (const h of held) {
      const job = this.o.held.get(h.id);
      if (job && extended.has(h.id) && job.lease.epoch === h.epoch) job.lease.renewed(sent);
      // Not renewed: taken over or ended elsewhere. (A job whose final write is in flight may
      // also be missing here; its own fenced write then decides.)
      if (job && !renewed.has(h.id) && job.lease.epoch === h.epoch && !this.o.stopping()) job.lease.markLost();
    }
    this.o.onView(view);
  }
}
