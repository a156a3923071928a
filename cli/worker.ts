// `runbook worker [--name N] [--concurrency C] [--group G] [--pool P]`: runs jobs until signalled. SIGTERM or SIGINT:
// claim nothing more, hand running jobs over at their next checkpoint, exit 0 (issue 5 builds
// `runbook drain` on the same path); a second SIGINT exits at once, leaving the leases to expire.
import { openDb, type Db } from "../runtime/db/connect.js";
import { connectTimeoutMs, DEFAULT_GROUP, DEFAULTS, SettingError, settingsFromEnv, type WorkerSettings } from "../runtime/settings.js";
import { Worker, WorkerNameTaken, type WorkerOptions } from "../runtime/worker.js";
import { CliError } from "./errors.js";
import { checkGroup } from "./placement.js";

export interface WorkerCliOptions {
  name?: string;
  concurrency: string;
  group?: string;
  pool?: string;
}

/**
 * Connections a worker opens by default: one per runner, so every running job can write its
 * checkpoint at once, plus the claim, the completion batches and the heartbeat. Measured
 * (bench/peers.ts, concurrency 10, 2 rounds each, load average 3-4 on 2 cores, one-checkpoint /
 * ten-checkpoint jobs per second): a pool of 8 gave 2,760 / 456, 11 gave 2,946 / 490, 13 gave
 * 3,205 / 502, 16 gave 3,220 / 484. At most 20, so a fleet of workers with a high concurrency
 * (runners mostly waiting on activities) does not use up a server's max_connections; --pool
 * sets it.
 */
function defaultPool(concurrency: number): number {
  return Math.min(20, concurrency + 3);
}

export async function worker(opts: WorkerCliOptions): Promise<void> {
  const concurrency = Number(opts.concurrency);
  const group = checkGroup(opts.group);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new CliError(`--concurrency must be a whole number of at least 1, not ${opts.concurrency}`, 2);
  const pool = opts.pool === undefined ? defaultPool(concurrency) : Number(opts.pool);
  if (!Number.isInteger(pool) || pool < 4) throw new CliError(`--pool must be a whole number of at least 4, not ${opts.pool}`, 2);
  const { drainTimeoutMs, ...timing } = { ...DEFAULTS, ...envSettings() };
  // A session left idle inside a transaction is ended about when its lease would expire.
  const db = await openDb({ max: pool, idleInTransactionMs: timing.timeoutMs, connectTimeoutMs: connectTimeoutMs(timing.timeoutMs) });
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const w = await startWorker(db, { ...timing, name: opts.name, concurrency, group, log });
  log(`worker ${w.name} started: ${group === DEFAULT_GROUP ? "" : `group ${group}, `}concurrency ${concurrency}, ${w.ownedSlots.length} of ${db.slotCount} slots`);
  let signals = 0;
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log(`${sig} again: exiting now; running jobs resume elsewhere when their leases expire`);
        process.exit(130);
      }
      log(`${sig}: claiming nothing more; running jobs hand over at their next checkpoint`);
      void w.stop({ graceMs: drainTimeoutMs }).then(resolve);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // `runbook drain NAME` from anywhere stops it the same way.
    void w.whenStopped().then(resolve);
  });
  await db.close();
  log(`worker ${w.name} stopped`);
  // Stopped means gone: an activity module's open handles (a connection pool's idle clients, a
  // timer) must not keep a drained worker's process alive (they did, for 10 s and more).
  process.exit(0);
}

/** Starts the worker; on failure closes the database (an open pool kept the process alive). */
async function startWorker(db: Db, options: WorkerOptions): Promise<Worker> {
  try {
    return await Worker.start(db, options);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e instanceof WorkerNameTaken ? new CliError(e.message, 1) : e;
  }
}

/** The settings in the environment; a bad one is a usage error. */
function envSettings(): Partial<WorkerSettings> {
  try {
    return settingsFromEnv();
  } catch (e) {
    if (e instanceof SettingError) throw new CliError(e.message, 2);
    throw e;
  }
}
