// The worker: claims due jobs in the slots it owns and runs up to `concurrency` of them at once.
//
// Loops, all driven by timers and notifications, none blocking another:
// - claiming: one claim statement at a time for up to the free capacity, run again whenever a
//   job leaves, a notification arrives, the poll interval passes, or the next due job (a
//   sleep's end) comes up;
// - heartbeat: every `heartbeatMs`, one statement renews the worker row and every lease it
//   holds, and reads the deployment and who is alive; slot ownership is recomputed from it;
// - LISTEN on channel `runbook`: `jobs` (new or woken jobs), `deploy` (deployment changed, a
//   worker stopped), `control` (an operator stop for a running job); polling covers a lost
//   connection or a missed notification.
// Stopping: `stop()` claims nothing more; each running job hands over at its next checkpoint
// (or parks or ends before that); after `graceMs` the rest are released from their latest
// checkpoint. Every timer and connection is closed when `stop()` resolves.
import * as os from "node:os";
import pg from "pg";
import { ActivityHost } from "./activities.js";
import { CompletionBatcher } from "./batcher.js";
import type { Db } from "./db/connect.js";
import { JobLease } from "./lease.js";
import { Programs } from "./programs.js";
import type { DeploymentRow } from "./rows.js";
import { runJob, type RunnerEnv } from "./runner.js";
import { eligibleWorkers, slotsOf } from "./slots.js";
import { claimJobs, nextDue, type ClaimedJob } from "./sql/claim.js";
import type { NumberedRecord } from "./sql/checkpoint.js";
import { heartbeat, joinDeployment, liveWorker, markStopped, registerWorker, requestDrain } from "./sql/workers.js";

export interface WorkerOptions {
  name?: string;
  concurrency?: number;
  /** Heartbeat period (default 3 s). */
  heartbeatMs?: number;
  /** A worker (and its leases) whose heartbeat is older than this is dead (default 15 s). */
  timeoutMs?: number;
  /** Claim poll period when no notification comes (default 1 s). */
  pollMs?: number;
  /**
   * Most jobs claimed by one statement (default: 5 x the concurrency, at least 50). Up to this
   * many claimed jobs wait in a local queue for a free runner, so claims stay whole batches
   * instead of one statement per finished job. They are jobs of this worker's own slots, which
   * no other worker would claim anyway. Measured (bench/runtime.ts, no-op jobs, concurrency 10,
   * on a loaded 2-core machine): batches of 10 gave 1,017 jobs/s, batches of 50 3,143 jobs/s.
   */
  claimBatch?: number;
  /**
   * Join an automatic deployment only when none of its workers is alive, so a short-lived
   * worker (`runbook run`) does not move the slots of a running fleet.
   */
  joinOnlyIfAlone?: boolean;
  /** The folder activity modules are resolved from (default: the current folder). */
  baseDir?: string;
  /** Every stream record once committed (for `runbook run`). */
  onCommit?: (jobId: string, records: NumberedRecord[]) => void;
  /** A job left this worker (ended, parked, handed over or lost). */
  onJobLeft?: (jobId: string) => void;
  /**
   * A running job whose slot moved to another worker hands over at its next checkpoint; after
   * this long without one it is released from its latest checkpoint (default 10 minutes).
   */
  handoverTimeoutMs?: number;
  /** Diagnostics of the worker itself (not of jobs). */
  log?: (line: string) => void;
}

export interface StopOptions {
  /** How long running jobs may take to reach a checkpoint before they are released. */
  graceMs?: number;
  /** Leave handed-over jobs suspended instead of queued (`runbook drain --suspend`). */
  suspend?: boolean;
  /** Why, for the jobs' history ("stopping", "draining"). */
  reason?: string;
}

interface Held {
  claim: ClaimedJob;
  lease: JobLease;
  /** Settles when the job has left this worker. */
  done: Promise<void>;
  /** Lets a job waiting in `ready` run. */
  start(): void;
}

/** `Worker.start` under a name a live worker elsewhere holds. */
export class WorkerNameTaken extends Error {}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class Worker {
  readonly name: string;
  private readonly concurrency: number;
  private readonly heartbeatMs: number;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly claimBatch: number;
  private readonly handoverTimeoutMs: number;
  /** When each running job was first seen in a slot this worker no longer owns. */
  private readonly movedSince = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  /** Jobs running now (at most the concurrency). */
  private busy = 0;
  /** Claimed jobs waiting for a free runner (their leases are held and renewed). */
  private ready: ClaimedJob[] = [];
  private slots: number[] = [];
  private ownedSet = new Set<number>();
  private deployment: DeploymentRow | null = null;
  private eligible: string[] = [];
  private stopping = false;
  private beating = false;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private timers: NodeJS.Timeout[] = [];
  private wakeTimer: NodeJS.Timeout | null = null;
  private listener: pg.Client | null = null;
  private listenerRetry: NodeJS.Timeout | null = null;
  private readonly completions: CompletionBatcher;
  private readonly programs: Programs;
  private readonly activities: ActivityHost;
  private readonly log: (line: string) => void;
  private stopped: Promise<void> | null = null;
  private stopMode: { suspend: boolean; reason: string } = { suspend: false, reason: "stopping" };
  private resolveStopped!: () => void;
  private readonly stoppedSignal = new Promise<void>((r) => (this.resolveStopped = r));

  private constructor(
    private readonly db: Db,
    private readonly options: WorkerOptions,
  ) {
    this.name = options.name ?? `${os.hostname()}-${process.pid}`;
    this.concurrency = Math.max(1, options.concurrency ?? 10);
    this.heartbeatMs = options.heartbeatMs ?? 3_000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.claimBatch = Math.max(1, options.claimBatch ?? Math.max(50, 5 * this.concurrency));
    this.handoverTimeoutMs = options.handoverTimeoutMs ?? 600_000;
    this.completions = new CompletionBatcher(db.pool, this.name);
    this.programs = new Programs(db.pool);
    this.activities = new ActivityHost({ baseDir: options.baseDir, query: (text, params) => db.pool.query(text, params) });
    this.log = options.log ?? (() => undefined);
  }

  /** Registers the worker, joins the deployment if needed, and starts claiming. */
  static async start(db: Db, options: WorkerOptions = {}): Promise<Worker> {
    const w = new Worker(db, options);
    await w.begin();
    return w;
  }

  /** Slots this worker owns now. */
  get ownedSlots(): readonly number[] {
    return this.slots;
  }

  /** True once the worker has begun to stop (signal, `stop()`, or a drain). */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Ids of the jobs whose lease this worker holds. */
  get runningJobs(): string[] {
    return [...this.held.keys()];
  }

  private async begin(): Promise<void> {
    await this.refuseTakenName();
    await registerWorker(this.db.pool, { name: this.name, host: os.hostname(), pid: process.pid, concurrency: this.concurrency, timeoutMs: this.timeoutMs });
    const { deployment, joined, alive } = await joinDeployment(this.db.pool, this.name, this.options.joinOnlyIfAlone);
    if (!joined && !deployment.workers.includes(this.name)) {
      this.log(
        deployment.auto && this.options.joinOnlyIfAlone
          ? `jobs run on the live workers of the deployment (${alive.join(", ")})`
          : `worker ${this.name} is not in deployment generation ${deployment.generation} (${deployment.workers.join(", ")}): it owns no slots until \`runbook deploy\` names it`,
      );
    }
    await this.beat();
    await this.listen();
    this.timers.push(setInterval(() => this.tick(), this.heartbeatMs));
    this.timers.push(setInterval(() => this.kick(), this.pollMs));
    this.kick();
  }

  /**
   * Two live workers under one name would share one row: one's drain or stop would silently idle
   * the other. A name is free when no live worker holds it, or its holder is this process, or a
   * process of this host that is gone (a restart after a crash, before its heartbeat ran out).
   */
  private async refuseTakenName(): Promise<void> {
    const holder = await liveWorker(this.db.pool, this.name);
    if (!holder) return;
    if (holder.host === os.hostname() && (holder.pid === process.pid || !processAlive(holder.pid))) return;
    throw new WorkerNameTaken(
      `a worker named ${this.name} is already running (${holder.host}:${holder.pid}, heartbeat ${(holder.heartbeat_age_ms / 1000).toFixed(1)}s ago): ` +
        `give this one another --name, or stop that one first`,
    );
  }

  /**
   * The periodic heartbeat, one at a time: against a slow or unreachable database (a partition)
   * they piled up, one per period, each holding a pool connection the jobs' writes then waited
   * for (6 heartbeats in flight after a 4 s partition, with 8 connections).
   */
  private tick(): void {
    if (this.beating) return;
    this.beating = true;
    void this.beat()
      .catch((e) => this.log(`heartbeat failed: ${(e as Error).message}`))
      .finally(() => (this.beating = false));
  }

  /** One heartbeat: renew, detect lost leases, recompute the slots. */
  private async beat(): Promise<void> {
    const held = [...this.held.values()].map((h) => ({ id: h.claim.id, epoch: h.lease.epoch }));
    const sent = performance.now();
    const view = await heartbeat(this.db.pool, this.name, held, this.timeoutMs);
    const renewed = new Set(view.renewed);
    const extended = new Set(view.extended);
    for (const h of held) {
      const job = this.held.get(h.id);
      if (job && extended.has(h.id) && job.lease.epoch === h.epoch) job.lease.renewed(sent);
      // Not renewed: taken over or ended elsewhere. (A job whose final write is in flight may
      // also be missing here; its own fenced write then decides.)
      if (job && !renewed.has(h.id) && job.lease.epoch === h.epoch && !this.stopping) job.lease.markLost();
    }
    this.setView(view.deployment, view.alive);
    if (view.drainLeftMs !== null && !this.stopping) {
      this.log(`worker ${this.name} is draining: claiming nothing more; running jobs hand over at their next checkpoint`);
      void this.stop({ graceMs: view.drainLeftMs, suspend: view.me?.drain_suspend ?? false, reason: "draining" });
    }
  }

  private setView(deployment: DeploymentRow | null, alive: string[]): void {
    this.deployment = deployment;
    this.eligible = this.stopping ? [] : eligibleWorkers(deployment, alive);
    const slots = this.eligible.includes(this.name) ? slotsOf(this.name, this.db.slotCount, this.eligible) : [];
    const gained = slots.some((s) => !this.ownedSet.has(s));
    this.slots = slots;
    this.ownedSet = new Set(slots);
    if (gained) this.kick();
    if (!this.stopping) void this.leaveMovedSlots();
  }

  /**
   * Jobs in slots this worker no longer owns (a redeploy, a worker joining): claimed ones not yet
   * started go back to the queue at once; running ones hand over at their next checkpoint
   * (runner.ts), or are released from their latest checkpoint once `handoverTimeoutMs` passes
   * without one.
   */
  private async leaveMovedSlots(): Promise<void> {
    const now = performance.now();
    for (const [id, held] of this.held) {
      const slot = held.claim.slot;
      if (this.ownedSet.has(slot)) {
        this.movedSince.delete(id);
        continue;
      }
      const waiting = this.ready.indexOf(held.claim);
      if (waiting >= 0) {
        this.ready.splice(waiting, 1);
        this.held.delete(id);
        await held.lease.release(`slot ${slot} moved to another worker before the job started`).catch(() => false);
        continue;
      }
      if (held.lease.lost) continue; // already interrupted, or lost: its runner is leaving
      const since = this.movedSince.get(id) ?? now;
      this.movedSince.set(id, since);
      if (now - since >= this.handoverTimeoutMs) {
        this.movedSince.delete(id);
        void this.interrupt(held, `interrupted: slot ${slot} moved to another worker and the job reached no checkpoint in ${this.handoverTimeoutMs} ms`);
      }
    }
  }

  private async listen(): Promise<void> {
    if (this.stopping) return;
    const client = new pg.Client({ connectionString: this.db.url, application_name: `runbook-listen:${this.name}` });
    client.on("error", () => this.relisten(client));
    client.on("end", () => this.relisten(client));
    client.on("notification", (n) => {
      // A stopping worker has its own heartbeat (renewing what it still holds) and claims nothing.
      if (n.payload === "deploy" || n.payload?.startsWith("drain:")) void (this.stopping ? undefined : this.beat().catch(() => undefined));
      else if (n.payload === "control") void this.checkStops();
      else this.kick();
    });
    try {
      await client.connect();
      await client.query("LISTEN runbook");
      this.listener = client;
    } catch (e) {
      this.log(`LISTEN failed (${(e as Error).message}); polling every ${this.pollMs} ms`);
      this.relisten(client);
    }
  }

  private relisten(client: pg.Client): void {
    if (this.listener === client) this.listener = null;
    client.end().catch(() => undefined);
    if (this.stopping || this.listenerRetry) return;
    this.listenerRetry = setTimeout(() => {
      this.listenerRetry = null;
      void this.listen();
    }, 1_000);
  }

  /** An operator stopped running jobs: fire their activities' abort signal now. */
  private async checkStops(): Promise<void> {
    const ids = [...this.held.keys()];
    if (ids.length === 0) return;
    const { rows } = await this.db.pool
      .query<{ id: string }>("SELECT id FROM jobs WHERE id = ANY($1::text[]) AND control = 'stop'", [ids])
      .catch(() => ({ rows: [] as { id: string }[] }));
    for (const r of rows) this.held.get(r.id)?.lease.abort.abort(new Error("the job was stopped by an operator"));
  }

  /** Asks for a claim pass (coalesced with one in flight). */
  kick(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimPass()
      .catch((e) => this.log(`claim failed: ${(e as Error).message}`))
      .finally(() => {
        this.claiming = null;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.kick();
        }
      });
  }

  private async claimPass(): Promise<void> {
    while (!this.stopping && this.slots.length > 0) {
      // Claim a whole batch once there is room for one beside what runs and waits; when the
      // runners are idle, claim whatever there is room for.
      const room = this.concurrency + this.claimBatch - this.busy - this.ready.length;
      const idle = this.busy < this.concurrency && this.ready.length === 0;
      if (room < this.claimBatch && !(idle && room > 0)) return;
      const want = Math.min(room, this.claimBatch);
      const sent = performance.now();
      const claimed = await claimJobs(this.db.pool, this.name, this.slots, want, this.timeoutMs);
      for (const c of claimed) this.hold(c, sent);
      this.dispatch();
      if (claimed.length < want) {
        await this.armWakeTimer();
        return;
      }
    }
  }

  /** Starts claimed jobs while runners are free. */
  private dispatch(): void {
    while (this.busy < this.concurrency && this.ready.length > 0 && !this.stopping) this.launch(this.ready.shift()!);
  }

  /** A timer for the next due job (a sleep ending), when it comes before the next poll. */
  private async armWakeTimer(): Promise<void> {
    const { next, now } = await nextDue(this.db.pool, this.slots);
    if (!next || this.stopping) return;
    const delay = next.getTime() - now.getTime();
    if (delay >= this.pollMs) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.kick();
    }, Math.max(1, delay + 2));
  }

  /** Takes the lease of a claimed job; it waits in `ready` until a runner is free. */
  private hold(claim: ClaimedJob, claimedAt: number): void {
    const lease = new JobLease(this.db.pool, this.name, claim, this.options.onCommit ?? (() => undefined), { leaseMs: this.timeoutMs, claimedAt });
    let start!: () => void;
    const started = new Promise<void>((r) => (start = r));
    const done = started.then(() => this.run(claim, lease));
    const held: Held = { claim, lease, done, start };
    this.held.set(claim.id, held);
    this.ready.push(claim);
  }

  private launch(claim: ClaimedJob): void {
    const held = this.held.get(claim.id);
    if (!held) return;
    this.busy++;
    held.start();
  }

  private async run(claim: ClaimedJob, lease: JobLease): Promise<void> {
    const env: RunnerEnv = {
      pool: this.db.pool,
      worker: this.name,
      programs: this.programs,
      completions: this.completions,
      activities: this.activities,
      handOver: (slot) => this.handOver(slot),
      released: () => {
        this.busy--;
        this.dispatch();
        this.kick();
      },
    };
    let failed = false;
    try {
      await runJob(env, claim, lease);
    } catch (e) {
      failed = true;
      // A database error in the middle of a job: stop running it here; its lease expires and
      // it resumes from its latest checkpoint elsewhere.
      lease.markLost();
      this.log(`job ${claim.id}: ${(e as Error).message}; it resumes from its latest checkpoint when its lease expires`);
    } finally {
      if (lease.takenOver && !failed) this.log(`lost the lease of job ${claim.id} (epoch ${lease.epoch}): it was taken over or ended elsewhere; stopped running it here, nothing more written for it`);
      if (this.held.get(claim.id)?.lease === lease) this.held.delete(claim.id);
      this.movedSince.delete(claim.id);
      this.options.onJobLeft?.(claim.id);
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
  private async interrupt(held: Held, reason: string): Promise<void> {
    held.lease.interrupt(reason);
    const settleMs = Math.min(5_000, this.timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const left = await Promise.race([held.done.then(() => true, () => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), settleMs)))]);
    clearTimeout(timer);
    if (!left) this.log(`job ${held.claim.id} is still in an activity ${settleMs} ms after it was interrupted (the activity ignores ctx.signal); released anyway: that call may overlap with the job's next owner`);
    await held.lease.release(reason).catch(() => false);
  }

  private handOver(slot: number): { status: "queued" | "suspended"; reason: string } | null {
    if (this.stopping) return { status: this.stopMode.suspend ? "suspended" : "queued", reason: `worker ${this.name} is ${this.stopMode.reason}` };
    if (!this.ownedSet.has(slot)) return { status: "queued", reason: `slot ${slot} moved to another worker` };
    return null;
  }

  /**
   * Stops claiming, lets running jobs reach their next checkpoint (they hand over there), and
   * after `graceMs` releases the rest from their latest checkpoint. Closes every timer and
   * connection. Idempotent.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (!this.stopped) {
      this.stopMode = { suspend: options.suspend ?? false, reason: options.reason ?? "stopping" };
      this.stopped = this.shutdown(options.graceMs ?? 30_000);
      this.stopped.then(() => this.resolveStopped());
    }
    return this.stopped;
  }

  /** Settles when the worker has stopped (after `stop()`, or a drain requested by an operator). */
  whenStopped(): Promise<void> {
    return this.stoppedSignal;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    // Draining in the database too (a SIGTERM, not only `runbook drain`): the others stop
    // counting this worker alive and take its slots now, so a job handed over at its checkpoint
    // goes on elsewhere at once. Without it its slots stayed here until the worker had stopped,
    // and handed-over jobs waited for the slowest job's step, up to the whole drain timeout.
    await requestDrain(this.db.pool, this.name, graceMs, this.stopMode.suspend).catch(() => false);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.listenerRetry) clearTimeout(this.listenerRetry);
    await this.claiming;
    // Claimed jobs that never started go straight back to the queue.
    for (const claim of this.ready.splice(0)) {
      const held = this.held.get(claim.id);
      if (!held) continue;
      this.held.delete(claim.id);
      await held.lease.release(`worker ${this.name} stopped before starting it`).catch(() => false);
    }
    // Keep the leases alive while the jobs finish their current step.
    const renew = setInterval(() => this.tick(), this.heartbeatMs);
    try {
      let timer: NodeJS.Timeout | undefined;
      const all = Promise.all([...this.held.values()].map((h) => h.done));
      const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
      clearTimeout(timer);
      if (timedOut) {
        const reason = `interrupted: worker ${this.name} was ${this.stopMode.reason} and the job reached no checkpoint in time`;
        await Promise.all([...this.held.values()].map((h) => this.interrupt(h, reason)));
      }
      await this.completions.idle();
    } finally {
      clearInterval(renew);
    }
    await markStopped(this.db.pool, this.name).catch(() => undefined);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }
}
