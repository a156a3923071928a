// The worker: claims due jobs in the slots it owns and runs up to `concurrency` of them at once.
// This file ties the parts together and owns starting and stopping; the parts, each driven by
// its own timers or notifications, none blocking another:
// - claim-queue.ts: the claim loop and the local ready queue of claimed jobs;
// - heartbeat.ts: the periodic heartbeat renewing the worker and its leases; from what it reads
//   (deployment, live workers, a drain request) the worker recomputes its slots here;
// - notifications.ts: LISTEN on channel `runbook` (polling covers a lost connection);
// - handover.ts: jobs leaving a slot that moved, at a checkpoint or interrupted;
// - worker-name.ts: one live worker per name.
// Stopping: `stop()` claims nothing more; each running job hands over at its next checkpoint
// (or parks or ends before that); after `graceMs` the rest are released from their latest
// checkpoint. Every timer and connection is closed when `stop()` resolves.
import * as os from "node:os";
import { ActivityHost } from "./activities.js";
import { CheckpointBatcher, CompletionBatcher } from "./batcher.js";
import { ClaimQueue } from "./claim-queue.js";
import { hostOf, type Db } from "./db/connect.js";
import { isConnectionError, Outage } from "./db/outage.js";
import { Handovers, within, type HandOver } from "./handover.js";
import { Heartbeat } from "./heartbeat.js";
import type { JobLease } from "./lease.js";
import { NotificationListener } from "./notifications.js";
import { Programs } from "./programs.js";
import type { Pins } from "./activity-pins.js";
import { runJob, type RunnerEnv } from "./runner.js";
import { DEFAULT_GROUP, DEFAULTS, RETENTION_EVERY_MS, SCHEDULE_EVERY_MS, STOP_GRACE_MS, defaultClaimBatch, renewWithinMs } from "./settings.js";
import { retentionPass } from "./retention.js";
import { firePass } from "./schedules.js";
import { eligibleWorkers, slotsOf } from "./slots.js";
import type { ClaimedJob } from "./sql/claim.js";
import type { NumberedRecord } from "./sql/checkpoint.js";
import { startFlushing, stopFlushing } from "./worker-metrics.js";
import { releaseLeases } from "./sql/park.js";
import { joinDeployment, markStopped, registerWorker, requestDrain, type View } from "./sql/workers.js";
import { refuseTakenName } from "./worker-name.js";

export { WorkerNameTaken } from "./worker-name.js";

export interface WorkerOptions {
  name?: string;
  /** The worker group it serves (default `default`): it claims only that group's jobs. */
  group?: string;
  concurrency?: number;
  /** Heartbeat period (default: settings.ts). */
  heartbeatMs?: number;
  /** A worker (and its leases) whose heartbeat is older than this is dead (default: settings.ts). */
  timeoutMs?: number;
  /** Claim poll period when no notification comes (default: settings.ts). */
  pollMs?: number;
  /**
   * Most jobs claimed by one statement (default: settings.ts `defaultClaimBatch`). Up to this
   * many claimed jobs wait in a local queue for a free runner, so claims stay whole batches
   * instead of one statement per finished job. They are jobs of this worker's own slots, which
   * no other worker would claim anyway.
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
   * this long without one it is released from its latest checkpoint (default: settings.ts).
   */
  handoverTimeoutMs?: number;
  /** Finished jobs older than this are removed (default: settings.ts; 0: never). */
  retentionMs?: number;
  /** How often to try a retention pass (default: settings.ts RETENTION_EVERY_MS). */
  retentionEveryMs?: number;
  /** How often to run a schedule fire pass (default: settings.ts SCHEDULE_EVERY_MS). */
  scheduleEveryMs?: number;
  /** Diagnostics of the worker itself (not of jobs). */
  log?: (line: string) => void;
}

export interface StopOptions {
  /** How long running jobs may take to reach a checkpoint before they are released (default: settings.ts STOP_GRACE_MS). */
  graceMs?: number;
  /** Leave handed-over jobs suspended instead of queued (`runbook drain --suspend`). */
  suspend?: boolean;
  /** Why, for the jobs' history ("stopping", "draining"). */
  reason?: string;
}

export class Worker {
  readonly name: string;
  private readonly concurrency: number;
  private readonly heartbeatMs: number;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly jobs: ClaimQueue;
  private readonly heartbeat: Heartbeat;
  private readonly handovers: Handovers;
  private readonly listener: NotificationListener;
  private slots: number[] = [];
  private ownedSet = new Set<number>();
  private stopping = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly completions: CompletionBatcher;
  private readonly checkpoints: CheckpointBatcher;
  private readonly programs: Programs;
  private readonly activities: ActivityHost;
  private readonly env: RunnerEnv;
  /** Versions whose pinned activity modules differ here, with their pins (runner.ts). */
  private readonly refused = new Map<string, Pins>();
  private readonly log: (line: string) => void;
  /** The database unreachable: reported once per lease timeout, not by every part that fails. */
  private readonly outage: Outage;
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
    this.heartbeatMs = options.heartbeatMs ?? DEFAULTS.heartbeatMs;
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.pollMs = options.pollMs ?? DEFAULTS.pollMs;
    this.completions = new CompletionBatcher(db.pool, this.name);
    this.checkpoints = new CheckpointBatcher(db.pool);
    this.programs = new Programs(db.pool);
    this.activities = new ActivityHost({ baseDir: options.baseDir, query: (text, params) => db.pool.query(text, params) });
    this.log = options.log ?? (() => undefined);
    this.outage = new Outage({ where: () => hostOf(db.currentUrl()), everyMs: this.timeoutMs, log: this.log });
    // Claims and LISTEN are retried anyway; the heartbeat reports an outage.
    const unreachable = (e: unknown) => isConnectionError(e);
    const stopping = () => this.stopping;
    this.jobs = new ClaimQueue({
      pool: db.pool,
      worker: this.name,
      group: options.group ?? DEFAULT_GROUP,
      concurrency: this.concurrency,
      claimBatch: Math.max(1, options.claimBatch ?? defaultClaimBatch(this.concurrency)),
      leaseMs: this.timeoutMs,
      pollMs: this.pollMs,
      slots: () => this.slots,
      stopping,
      run: (claim, lease) => this.run(claim, lease),
      excludedVersions: () => this.refusedVersions(),
      onCommit: options.onCommit ?? (() => undefined),
      unreachable,
      log: this.log,
    });
    this.handovers = new Handovers(this.jobs, { handoverTimeoutMs: options.handoverTimeoutMs ?? DEFAULTS.handoverTimeoutMs, leaseMs: this.timeoutMs, log: this.log });
    this.heartbeat = new Heartbeat({ pool: db.pool, worker: this.name, leaseMs: this.timeoutMs, renewWithinMs: renewWithinMs({ heartbeatMs: this.heartbeatMs, timeoutMs: this.timeoutMs }), held: this.jobs.held, stopping, onView: (v) => this.onView(v), outage: this.outage, log: this.log });
    this.listener = new NotificationListener(() => db.clientConfig(), this.name, this.pollMs, this.log, {
      // A stopping worker has its own heartbeat (renewing what it still holds) and claims nothing.
      deploy: () => void (this.stopping ? undefined : this.heartbeat.beat().catch(() => undefined)),
      control: () => void this.checkControl(),
      jobs: () => this.kick(),
    }, unreachable);
    // What every job run here shares: made once, nothing in it is per job.
    this.env = {
      pool: db.pool,
      worker: this.name,
      programs: this.programs,
      completions: this.completions,
      checkpoints: this.checkpoints,
      activities: this.activities,
      handOver: (slot) => this.handOver(slot),
      released: () => this.jobs.released(),
      refuseVersion: (version, pins) => {
        if (!this.refused.has(version)) this.log(`refusing the jobs of version ${version.slice(0, 12)}: its activity modules differ from this worker's`);
        this.refused.set(version, pins);
      },
    };
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
    return [...this.jobs.held.keys()];
  }

  /** Asks for a claim pass (coalesced with one in flight). */
  kick(): void {
    this.jobs.kick();
  }

  private async begin(): Promise<void> {
    await refuseTakenName(this.db.pool, this.name);
    await registerWorker(this.db.pool, { name: this.name, host: os.hostname(), pid: process.pid, concurrency: this.concurrency, timeoutMs: this.timeoutMs, group: this.options.group ?? DEFAULT_GROUP });
    startFlushing(this.db.pool);
    const { deployment, joined, alive } = await joinDeployment(this.db.pool, this.name, this.options.joinOnlyIfAlone);
    if (!joined && !deployment.workers.includes(this.name)) {
      this.log(
        deployment.auto && this.options.joinOnlyIfAlone
          ? `jobs run on the live workers of the deployment (${alive.join(", ")})`
          : `worker ${this.name} is not in deployment generation ${deployment.generation} (${deployment.workers.join(", ")}): it owns no slots until \`runbook deploy\` names it`,
      );
    }
    await this.heartbeat.beat();
    await this.listener.listen();
    this.timers.push(setInterval(() => this.heartbeat.tick(), this.heartbeatMs));
    this.timers.push(setInterval(() => this.kick(), this.pollMs));
    const retentionMs = this.options.retentionMs ?? DEFAULTS.retentionMs;
    if (retentionMs > 0) this.timers.push(setInterval(() => void this.retain(retentionMs), this.options.retentionEveryMs ?? RETENTION_EVERY_MS));
    this.timers.push(setInterval(() => void this.fireSchedules(), this.options.scheduleEveryMs ?? SCHEDULE_EVERY_MS));
    this.kick();
  }

  private firing = false;

  /** One schedule fire pass (runtime/schedules.ts); the jobs it queues notify the claimers. */
  private async fireSchedules(): Promise<void> {
    if (this.firing || this.stopping || this.outage.down) return;
    this.firing = true;
    try {
      // Only what an operator did not expect is said: a catch-up and missed ticks (every tick is
      // in schedule_ticks and the jobs' history anyway).
      for (const r of await firePass(this.db.pool, this.timeoutMs)) {
        if (r.missed > 0) this.log(`schedule ${r.schedule}: ${r.missed} tick${r.missed === 1 ? "" : "s"} missed while no worker ran schedules (runbook schedule show ${r.schedule})`);
        if (r.fired > 1) this.log(`schedule ${r.schedule}: fired ${r.fired} ticks at once (catching up)`);
      }
    } catch (e) {
      // The next pass does it again: nothing of a failed pass was committed.
      if (!isConnectionError(e)) this.log(`schedule pass failed: ${(e as Error).message}`);
    } finally {
      this.firing = false;
    }
  }

  private retaining = false;

  /** One retention pass, unless one is running here or on another worker (retention.ts). */
  private async retain(olderThanMs: number): Promise<void> {
    if (this.retaining || this.stopping) return;
    this.retaining = true;
    try {
      // At most 100 batches a pass: a huge backlog is worked off over several passes.
      const n = await retentionPass(this.db.pool, { olderThanMs, maxBatches: 100 });
      if (n) this.log(`retention: removed ${n} finished job${n === 1 ? "" : "s"} older than ${Math.round(olderThanMs / 86_400_000 * 10) / 10} days`);
    } catch (e) {
      this.log(`retention pass failed: ${(e as Error).message}`);
    } finally {
      this.retaining = false;
    }
  }

  /** What a heartbeat read: recompute the slots, leave moved ones, start a requested drain. */
  private onView(view: View): void {
    const eligible = this.stopping ? [] : eligibleWorkers(view.deployment, view.alive);
    const slots = eligible.includes(this.name) ? slotsOf(this.name, this.db.slotCount, eligible) : [];
    const gained = slots.some((s) => !this.ownedSet.has(s));
    this.slots = slots;
    this.ownedSet = new Set(slots);
    if (gained) this.kick();
    if (!this.stopping) void this.handovers.leaveMovedSlots(this.ownedSet);
    if (view.drainLeftMs !== null && !this.stopping) {
      this.log(`worker ${this.name} is draining: claiming nothing more; running jobs hand over at their next checkpoint`);
      void this.stop({ graceMs: view.drainLeftMs, suspend: view.me?.drain_suspend ?? false, reason: "draining" });
    }
  }

  /**
   * An operator suspended or stopped running jobs: their steps end at the next tick (a job in a
   * loop reaches no checkpoint), and a stop also cancels their activities in flight.
   */
  private async checkControl(): Promise<void> {
    const ids = [...this.jobs.held.keys()];
    if (ids.length === 0) return;
    type Row = { id: string; control: "suspend" | "stop" };
    const { rows } = await this.db.pool
      .query<Row>("SELECT id, control FROM jobs WHERE id = ANY($1::text[]) AND control IN ('suspend', 'stop')", [ids])
      .catch(() => ({ rows: [] as Row[] }));
    for (const r of rows) this.jobs.held.get(r.id)?.lease.operatorControl(r.control);
  }

  private async run(claim: ClaimedJob, lease: JobLease): Promise<void> {
    const env = this.env;
    const began = performance.now();
    let failed = false;
    let error: unknown;
    try {
      await runJob(env, claim, lease);
    } catch (e) {
      failed = true;
      error = e;
      // A database error in the middle of a job: stop running it here; its lease expires and
      // it resumes from its latest checkpoint elsewhere.
      lease.markLost();
    } finally {
      this.jobs.forget(claim.id, lease);
      this.handovers.forget(claim.id);
      this.options.onJobLeft?.(claim.id);
    }
    // A lost connection: the database away (the heartbeat reports that, once), or that one
    // connection only (said below). The job has left first, so the probe does not renew it.
    if (failed && isConnectionError(error) && !this.outage.down) await this.heartbeat.probe();
    // In an outage a job stops here for want of the database (a failed write, no heartbeat for
    // the lease), not because it was taken over: counted in the outage's next line. A job that
    // ran through an outage and ends after it, for want of the database then, was reported too.
    const throughOutage = this.outage.endedSince(began);
    if (this.outage.down && lease.lost) this.outage.jobStopped();
    else if (failed && !(throughOutage && isConnectionError(error))) this.log(`job ${claim.id}: ${(error as Error).message}; it resumes from its latest checkpoint when its lease expires`);
    else if (!failed && lease.takenOver && !throughOutage) this.log(`lost the lease of job ${claim.id} (epoch ${lease.epoch}): it was taken over or ended elsewhere; stopped running it here, nothing more written for it`);
  }

  /** The refused versions whose modules still differ here (a few `stat`s while nothing changed). */
  private async refusedVersions(): Promise<string[]> {
    for (const [version, pins] of this.refused) {
      if ((await this.activities.pins.drift(pins)).length === 0) this.refused.delete(version);
    }
    return [...this.refused.keys()];
  }

  /** Asked by a running job at each checkpoint: go on here, or hand over (and how). */
  private handOver(slot: number): HandOver {
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
      this.stopped = this.shutdown(options.graceMs ?? STOP_GRACE_MS);
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
    this.listener.stopReconnecting();
    // Claimed jobs that never started go straight back to the queue, in one statement (a claim
    // batch holds up to 1,000).
    const waiting = await this.jobs.close();
    for (const held of waiting) held.lease.givingBack();
    await releaseLeases(this.db.pool, waiting.map((h) => ({ id: h.claim.id, epoch: h.lease.epoch })), this.name, `worker ${this.name} stopped before starting it`).catch(() => []);
    // Keep the leases alive while the jobs finish their current step.
    const renew = setInterval(() => this.heartbeat.tick(), this.heartbeatMs);
    try {
      const all = Promise.all([...this.jobs.held.values()].map((h) => h.done));
      if (!(await within(all, graceMs))) {
        const reason = `interrupted: worker ${this.name} was ${this.stopMode.reason} and the job reached no checkpoint in time`;
        await Promise.all([...this.jobs.held.values()].map((h) => this.handovers.interrupt(h, reason)));
      }
      await this.completions.idle();
    } finally {
      clearInterval(renew);
    }
    await markStopped(this.db.pool, this.name).catch(() => undefined);
    await stopFlushing();
    await this.listener.close();
    await this.activities.close();
  }
}
