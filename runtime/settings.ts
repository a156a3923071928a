// The worker's timing settings in one place: their defaults, and the environment variables of
// `runbook worker` that set them (docs/runtime.md, "Settings"). runtime/worker.ts fills what its
// caller leaves out from `DEFAULTS`; cli/worker.ts reads the environment with `settingsFromEnv`.

export interface WorkerSettings {
  /** How often the worker renews its row and all its leases (one statement) and re-reads the deployment. */
  heartbeatMs: number;
  /** A worker whose heartbeat is older is dead, and a lease not renewed for this long has expired. */
  timeoutMs: number;
  /** Claim poll period when no notification comes. */
  pollMs: number;
  /** Most jobs one claim statement takes; undefined: `defaultClaimBatch(concurrency)`. */
  claimBatch: number | undefined;
  /** How long a running job whose slot moved may take to reach a checkpoint before it is interrupted. */
  handoverTimeoutMs: number;
  /** The same for SIGTERM/SIGINT of `runbook worker` (`runbook drain --timeout` sets its own). */
  drainTimeoutMs: number;
  /**
   * Finished jobs older than this are removed by the workers (runtime/retention.ts); 0 keeps
   * them forever. Azure Automation keeps job logs 30 days; so do we by default.
   */
  retentionMs: number;
}

/** The worker group of a worker, deployment or job that names none (migration 0011). */
export const DEFAULT_GROUP = "default";

export const DEFAULTS: Readonly<WorkerSettings> = {
  heartbeatMs: 3_000,
  timeoutMs: 15_000,
  pollMs: 1_000,
  claimBatch: undefined,
  handoverTimeoutMs: 600_000,
  drainTimeoutMs: 600_000,
  retentionMs: 30 * 86_400_000,
};

/**
 * How long a worker's attempt to open a connection may take, for a lease of `timeoutMs`: half
 * the lease, so an attempt hanging on something else that took the database's old port cannot
 * hold the heartbeat past the lease; at least 2 s (a loaded machine may take a while to open a
 * connection, and a failed one costs a job its work since its checkpoint); at most 10 s.
 */
export function connectTimeoutMs(timeoutMs: number): number {
  return Math.min(10_000, Math.max(2_000, timeoutMs / 2));
}

/**
 * A heartbeat extends only the leases with less than this left: half the lease, or two beats if
 * that is more, so a lease it leaves alone is still good at the next beat, which extends it
 * (one beat late still leaves it a margin). With the defaults (3 s beats, 15 s lease) a job held
 * under 7.5 s is never renewed: its claim's lease covers it.
 */
export function renewWithinMs(timing: { heartbeatMs: number; timeoutMs: number }): number {
  return Math.min(timing.timeoutMs, Math.max(timing.timeoutMs / 2, 2 * timing.heartbeatMs));
}

/** How often a worker tries a retention pass (one worker at a time does it). */
export const RETENTION_EVERY_MS = 3_600_000;

/**
 * How often each worker runs a schedule fire pass (runtime/schedules.ts): a tick's job is
 * queued at most this long after the tick, give or take the machine's load.
 */
export const SCHEDULE_EVERY_MS = 1_000;

/** `Worker.stop()` without a grace period (a program's own worker; the CLI passes drainTimeoutMs). */
export const STOP_GRACE_MS = 30_000;

/**
 * A job parked on `await` is looked at again after this long even if no wake-up came: a worker
 * dying between a job's final write and the wake-up of its waiters (two statements) delays the
 * waiters by at most this, never forever.
 */
export const AWAIT_RECHECK_MS = 60_000;

/**
 * Default claim batch: 50 x the concurrency, 100 to 1,000 (500 at concurrency 10, graphile's
 * `localQueue.size` in its throughput preset). Measured (no-op jobs, concurrency 10, 2-core
 * machine): batches of 10 gave 1,017 jobs/s and of 50 3,143 (bench/runtime.ts, loaded); of 50
 * 8,533 and 7,134, of 500 12,575 and 14,557 (bench/peers.ts, load average 2, alternated).
 * Claimed jobs are of this worker's own slots, which no other worker would claim, and their
 * leases are renewed with the running ones', so holding more costs no one a job.
 */
export function defaultClaimBatch(concurrency: number): number {
  return Math.min(1_000, Math.max(100, 50 * concurrency));
}

/** The environment variable of each setting. */
export const ENV_NAMES: Readonly<Record<keyof WorkerSettings, string>> = {
  heartbeatMs: "RUNBOOK_HEARTBEAT_MS",
  timeoutMs: "RUNBOOK_TIMEOUT_MS",
  pollMs: "RUNBOOK_POLL_MS",
  claimBatch: "RUNBOOK_CLAIM_BATCH",
  handoverTimeoutMs: "RUNBOOK_HANDOVER_TIMEOUT_MS",
  drainTimeoutMs: "RUNBOOK_DRAIN_TIMEOUT_MS",
  retentionMs: "RUNBOOK_RETENTION_MS",
};

/** Settings where 0 means "off" rather than a bad value. */
const ZERO_MEANS_OFF: ReadonlySet<keyof WorkerSettings> = new Set(["retentionMs"]);

/** A setting in the environment that is not a positive number (one line, for the CLI). */
export class SettingError extends Error {}

/**
 * The settings the environment gives (unset or empty: left out, so the defaults apply).
 * Throws a SettingError naming the variable for a value that is not a positive number.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<WorkerSettings> {
  const out: Partial<WorkerSettings> = {};
  for (const key of Object.keys(ENV_NAMES) as (keyof WorkerSettings)[]) {
    const name = ENV_NAMES[key];
    const v = env[name];
    if (v === undefined || v === "") continue;
    const n = Number(v);
    if (ZERO_MEANS_OFF.has(key) && n === 0) {
      out[key] = 0;
      continue;
    }
    if (!Number.isFinite(n) || n <= 0) throw new SettingError(`${name} must be a positive number of milliseconds${ZERO_MEANS_OFF.has(key) ? " (0: off)" : ""}, not ${v}`);
    out[key] = n;
  }
  return out;
}
