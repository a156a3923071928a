// The worker's heartbeat and what it learns. Every `heartbeatMs` one statement renews the worker
// row and every lease it holds (sql/workers.ts), and reads the deployment and who is alive; the
// worker recomputes its slots from that view. A lease the statement did not renew was taken over
// or ended elsewhere: its job is marked lost, so its runner writes nothing more. When no
// heartbeat has gone through for a whole lease (the database unreachable), every lease held may
// have expired and been taken over: their jobs are marked lost too, so an activity in flight is
// cancelled before the job can run elsewhere, instead of at its next (fenced) write.
import type pg from "pg";
import type { Held } from "./claim-queue.js";
import type { Outage } from "./db/outage.js";
import { heartbeat, type View } from "./sql/workers.js";

export interface HeartbeatOptions {
  pool: pg.Pool;
  worker: string;
  leaseMs: number;
  /** Leases with less than this left are extended at a beat (settings.ts renewWithinMs). */
  renewWithinMs: number;
  /** The jobs whose lease this worker holds, by id. */
  held: ReadonlyMap<string, Held>;
  /** A stopping worker keeps renewing but marks nothing lost (its jobs are leaving anyway). */
  stopping(): boolean;
  /** What the heartbeat read. */
  onView(view: View): void;
  /** Where a heartbeat failing because the database is unreachable is reported. */
  outage: Outage;
  log(line: string): void;
}

export class Heartbeat {
  /** The periodic heartbeat in flight, if any. */
  private current: Promise<void> | null = null;
  /** performance.now() when the latest heartbeat that went through was sent. */
  private lastBeat = performance.now();

  constructor(private readonly o: HeartbeatOptions) {}

  /**
   * The periodic heartbeat, one at a time: against a slow or unreachable database (a partition)
   * they piled up, one per period, each holding a pool connection the jobs' writes then waited
   * for (6 heartbeats in flight after a 4 s partition, with 8 connections).
   */
  tick(): void {
    if (this.current) return;
    const started = performance.now();
    this.current = this.beat()
      .catch((e) => {
        // A beat that went through since this one began: the database is there (this one hung
        // on a connection to where it was).
        if (this.lastBeat > started) return;
        if (!this.o.outage.failed(e)) this.o.log(`heartbeat failed: ${(e as Error).message}`);
        if (performance.now() - this.lastBeat >= this.o.leaseMs) this.leasesExpired();
      })
      .finally(() => (this.current = null));
  }

  /**
   * For a part whose connection just failed: is the database away (a heartbeat sent from now on
   * fails, and reports the outage), or was it that one connection (it goes through)?
   */
  async probe(): Promise<boolean> {
    const asked = performance.now();
    await this.current;
    if (this.lastBeat <= asked) {
      this.tick();
      await this.current;
    }
    return this.lastBeat > asked;
  }

  /** No renewal for a whole lease: none of the leases held can be counted on any more. */
  private leasesExpired(): void {
    let stopped = 0;
    for (const job of this.o.held.values()) {
      if (job.lease.lost) continue;
      job.lease.markLost();
      stopped++;
    }
    if (stopped > 0 && !this.o.outage.down) this.o.log(`no heartbeat went through for ${this.o.leaseMs} ms (the lease): stopped ${stopped} jobs here; they resume from their latest checkpoint`);
  }

  /** One heartbeat: renew, detect lost leases, hand the view on. */
  async beat(): Promise<void> {
    const held = [...this.o.held.values()].map((h) => ({ id: h.claim.id, epoch: h.lease.epoch }));
    const sent = performance.now();
    const view = await heartbeat(this.o.pool, this.o.worker, held, this.o.leaseMs, this.o.renewWithinMs);
    if (sent > this.lastBeat) this.lastBeat = sent;
    this.o.outage.reached();
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
