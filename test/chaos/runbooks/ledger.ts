// The soak's activity: every call records one side effect in the `chaos_ledger` table of the
// job's database with its job, position, attempt, worker and lease epoch (ctx.leaseEpoch).
//
// It behaves as docs/activities.md asks of an external system that must stay correct under
// failover: it uses the lease epoch as a fencing token. One statement locks the job's row (FOR
// SHARE, so a claim in progress commits first), compares the epoch and the status, and records
// the call either way: `accepted` when the epoch is still the job's current one and the job is
// running, refused otherwise (a worker back from a pause after its job moved on). The checker
// (test/chaos/checker.ts) reads the accepted rows as what really happened and counts the refused
// ones. The ledger is the soak's observer, so it outlives a database restart: a call whose
// connection fails retries until it gets through or the job's signal fires.
import pg from "pg";

/** The ActivityContext fields used here (declared locally: this folder is copied into a temp project). */
interface Ctx {
  jobId: string;
  attempt: number;
  signal: AbortSignal;
  worker?: string;
  leaseEpoch?: string;
}

let pool: pg.Pool | undefined;
function db(): pg.Pool {
  if (!pool) {
    pool = new pg.Pool({ connectionString: process.env.LEDGER_URL ?? process.env.DATABASE_URL, max: 4, application_name: "chaos-ledger" });
    pool.on("error", () => undefined);
  }
  return pool;
}

const RECORD = `WITH j AS (SELECT lease_epoch, status FROM jobs WHERE id = $1 FOR SHARE)
  INSERT INTO chaos_ledger (job, pos, attempt, worker, epoch, job_epoch, job_status, accepted)
  SELECT $1, $2, $3, $4, $5, j.lease_epoch, j.status, j.lease_epoch = $5 AND j.status = 'running' FROM j
  RETURNING accepted`;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), reject(new Error("aborted"))), { once: true });
  });
}

/** Records the call; throws when the ledger refused it (the lease is no longer this call's). */
async function record(pos: number, ctx: Ctx): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const { rows } = await db().query<{ accepted: boolean }>(RECORD, [ctx.jobId, pos, ctx.attempt, ctx.worker ?? "?", ctx.leaseEpoch ?? "0"]);
      if (!rows[0]?.accepted) throw new StaleLease(`the ledger refused epoch ${ctx.leaseEpoch} of job ${ctx.jobId}`);
      return;
    } catch (e) {
      if (e instanceof StaleLease || Date.now() > until || ctx.signal.aborted) throw e;
      await pause(250, ctx.signal); // the database is restarting, or this session was terminated
    }
  }
}

class StaleLease extends Error {}

/** One unit of work at position `pos`, `ms` long. */
export async function touch(args: { pos: number; ms?: number }, ctx: Ctx): Promise<number> {
  await record(args.pos, ctx);
  if (args.ms) await pause(args.ms, ctx.signal);
  return args.pos;
}

/** Fails its first `fails` attempts (ctx.attempt, durable across crashes), then succeeds. */
export async function flaky(args: { pos: number; fails: number }, ctx: Ctx): Promise<number> {
  await record(args.pos, ctx);
  if (ctx.attempt <= args.fails) throw new Error(`attempt ${ctx.attempt} of ${args.fails + 1} fails on purpose`);
  return ctx.attempt;
}
