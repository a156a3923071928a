// What the checker reads after a soak: the database's jobs, streams, history and ledger, and
// what the soak itself recorded (its faults, the hostile inputs it sent, the workers that
// crashed). The checker (checker.ts) is a pure function of this, so its self-test can feed it
// doctored evidence.
import type pg from "pg";
import type { Json } from "../../runtime/abi.js";
import { jobsHistory } from "../../runtime/sql/inspect.js";

export interface JobEvidence {
  id: string;
  runbook: string;
  params: Record<string, Json>;
  status: string;
  parent_id: string | null;
  error: { message?: string } | null;
  /** Its concurrency key and limit (migration 0011); null: none. */
  concurrency_key?: string | null;
  concurrency_limit?: number | null;
  /** When it ended (a completion has no history row: migration 0008). */
  finished_at: Date | null;
  /** A `parallel for` branch (migration 0012): its run, element index and label; else null. */
  branch_key?: number | null;
  branch_index?: number | null;
  branch_label?: string | null;
  /** The schedule and tick that made it (null: not a schedule's job). */
  schedule?: string | null;
  schedule_tick?: Date | null;
}

/** A schedule of the soak, and what became of its ticks (ticks.ts checks them). */
export interface ScheduleEvidence {
  name: string;
  cron: string;
  tz: string;
}

export interface TickEvidence {
  schedule: string;
  tick: Date;
  outcome: string;
  job_id: string | null;
  last_tick: Date | null;
  missed: number | null;
  reason: string | null;
}

export interface StreamEvidence {
  job_id: string;
  seq: number;
  stream: string;
  value: Json;
}

export interface HistoryEvidence {
  id: number;
  job_id: string;
  at: Date;
  from_status: string | null;
  to_status: string;
  worker: string | null;
  reason: string;
}

export interface LedgerEvidence {
  id: number;
  job: string;
  pos: number;
  attempt: number;
  worker: string;
  epoch: number;
  accepted: boolean;
  at: Date;
}

/** A fault or operator action the soak injected. */
export interface FaultRecord {
  kind: string;
  /** Database time just before it was injected. */
  at: Date;
  /** The worker it hit, if one. */
  worker?: string;
  /** Jobs that worker held (a kill or a pause: their failover is measured). */
  held?: string[];
  detail?: string;
}

/** A hostile edit aimed at one job: it must fail with this error, or (when allowed) complete. */
export interface HostileJob {
  job: string;
  kind: "checkpoint" | "version";
  /** The error the job must end with if it fails (a regular expression's source). */
  error: string;
  /** It may complete instead (a worker had the deleted version cached). */
  mayComplete: boolean;
}

/** A `runbook` command the soak sent bad input to, that did not answer with one clear line. */
export interface UnclearError {
  command: string;
  code: number;
  stderr: string;
}

export interface Evidence {
  jobs: JobEvidence[];
  streams: StreamEvidence[];
  history: HistoryEvidence[];
  ledger: LedgerEvidence[];
  faults: FaultRecord[];
  hostile: HostileJob[];
  crashes: { worker: string; code: number; tail: string }[];
  unclear: UnclearError[];
  schedules?: ScheduleEvidence[];
  ticks?: TickEvidence[];
}

/** Reads the database's part of the evidence. */
export async function readEvidence(pool: pg.Pool): Promise<Pick<Evidence, "jobs" | "streams" | "history" | "ledger" | "schedules" | "ticks">> {
  const [jobs, streams, history, ledger, schedules, ticks] = await Promise.all([
    pool.query<JobEvidence>("SELECT id, runbook, params, status, parent_id, error, concurrency_key, concurrency_limit, finished_at, branch_key, branch_index, branch_label, schedule, schedule_tick FROM jobs ORDER BY id"),
    pool.query<StreamEvidence>("SELECT job_id, seq, stream, value FROM job_streams ORDER BY job_id, seq"),
    jobsHistory(pool, null),
    pool.query<LedgerEvidence>("SELECT id::int, job, pos, attempt, worker, epoch::int, accepted, at FROM chaos_ledger ORDER BY id"),
    pool.query<ScheduleEvidence>("SELECT name, cron, tz FROM schedules ORDER BY name"),
    pool.query<TickEvidence>("SELECT schedule, tick, outcome, job_id, last_tick, missed, reason FROM schedule_ticks ORDER BY schedule, tick"),
  ]);
  return { jobs: jobs.rows, streams: streams.rows, history: numbered(history), ledger: ledger.rows, schedules: schedules.rows, ticks: ticks.rows };
}

/**
 * The history as `runbook job` shows it, with the first claims and completions the job rows hold
 * instead of rows (migration 0008), numbered so the checker sees every transition in order: the
 * stored rows keep their id order (a row's `at` is its transaction's start, so ids order two
 * transactions' rows better than times do), and each row read from a job row goes in before the
 * first stored row that is later in time.
 */
function numbered(rows: Awaited<ReturnType<typeof jobsHistory>>): HistoryEvidence[] {
  const stored = rows.filter((r) => r.id !== null).sort((a, b) => Number(a.id) - Number(b.id));
  const fromJobRow = rows.filter((r) => r.id === null).sort((a, b) => a.at.getTime() - b.at.getTime());
  const merged: typeof rows = [];
  let i = 0;
  for (const r of stored) {
    while (i < fromJobRow.length && fromJobRow[i].at < r.at) merged.push(fromJobRow[i++]);
    merged.push(r);
  }
  merged.push(...fromJobRow.slice(i));
  return merged.map((r, n) => ({ id: n + 1, job_id: r.job_id, at: r.at, from_status: r.from_status, to_status: r.to_status, worker: r.worker, reason: r.reason }));
}
