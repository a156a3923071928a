// Row types: one per table of runtime/migrations, field for field (snake_case, as pg returns
// them). Timestamps arrive as Date, bigint as string (an opaque token for lease epochs).
import type pg from "pg";
import type { ErrorRecord, JobState, Json, ParamInfo, Placement, StreamName } from "./abi.js";
import type { DriftPolicy, Pins } from "./activity-pins.js";

/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, "query">;

export type JobStatus = "queued" | "running" | "sleeping" | "waiting" | "suspended" | "completed" | "failed" | "stopped";
export const JOB_STATUSES: readonly JobStatus[] = ["queued", "running", "sleeping", "waiting", "suspended", "completed", "failed", "stopped"];
export const FINISHED: readonly JobStatus[] = ["completed", "failed", "stopped"];

/** `jobs`: one durable job. */
export interface JobRow {
  /** Job id (a uuid, the `--id` key, or PARENT/SEQ for a child job). */
  id: string;
  /** The runbook this job runs (an entry of its version's bundle). */
  runbook: string;
  /** `versions.hash` of the code the job started with; it runs on it to the end. */
  version: string;
  /** The job that started this one, if any. */
  parent_id: string | null;
  /** A `parallel for` branch (migration 0012): its run, element index and element label. */
  branch_key?: number | null;
  branch_index?: number | null;
  branch_label?: string | null;
  /** hash(id) mod slot count: which worker may claim it. */
  slot: number;
  status: JobStatus;
  /** Parameters given at start (validated against the runbook's declaration). */
  params: Record<string, Json>;
  /** The latest checkpoint; null = start from the beginning. */
  state: JobState | null;
  checkpoint_label: string | null;
  checkpoint_at: Date | null;
  /** Number of checkpoints committed. */
  checkpoints: number;
  /** When it may be claimed: queue time, wake time, wait timeout or lease expiry (db clock). */
  due_at: Date | null;
  /** The worker holding the lease (or the last one that did). */
  worker: string | null;
  /** Bumped on every claim; every write for the job is fenced by it. */
  lease_epoch: string;
  /** The signal a `wait` is parked on. */
  wait_signal: string | null;
  /** The job an `await` is parked on. */
  await_job: string | null;
  /** Sleep end or wait timeout. */
  wait_until: Date | null;
  /** An operator's suspend or stop, pending until the running job's next checkpoint. */
  control: "suspend" | "stop" | null;
  /** Number of stream records committed. */
  stream_seq: number;
  /** Some job has awaited this one: its final write wakes the waiters. */
  awaited: boolean;
  result: Json | null;
  error: ErrorRecord | null;
  created_at: Date;
  updated_at: Date;
  /** Its first claim (migration 0008: that claim writes no history row). */
  started_at: Date | null;
  finished_at: Date | null;
  /** Only workers of this group claim it (migration 0011). */
  worker_group: string;
  /** Higher first among due jobs of the same slot. */
  priority: number;
  /** Its evaluated concurrency key ("patch_host:web1") and limit; null: none. */
  concurrency_key: string | null;
  concurrency_limit: number | null;
  /** The place it holds under its key (0 .. limit-1); null: none, or waiting for one. */
  key_place: number | null;
  /** The schedule that made the job, and its tick (0009); null for other jobs. */
  schedule: string | null;
  schedule_tick: Date | null;
}

/** `versions`: a published bundle of compiled runbooks under the hash of its code. */
export interface VersionRow {
  hash: string;
  /** The runbook published (the bundle's root). */
  runbook: string;
  /**
   * Compiled module of every runbook of the bundle, with the `.runbook` text it came from when
   * the publisher gave it (not part of the hash: a version keeps the text it was first stored with).
   */
  modules: Record<string, { file: string; js: string; source?: string }>;
  /** Parameters of the root runbook. */
  params: ParamInfo[];
  /** Hashes of the activity modules the bundle uses (runtime/activity-pins.ts; 0007). */
  activities: Pins;
  /** What a worker whose module differs does with the version's jobs. */
  activity_drift: DriftPolicy;
  /** Each bundled runbook's group and concurrency declaration (migration 0011). */
  placement: Record<string, Placement>;
  created_at: Date;
}

/** `job_streams`: one stream record, committed with the checkpoint that followed it. */
export interface StreamRow {
  job_id: string;
  /** 1, 2, 3... per job, in emission order. */
  seq: number;
  stream: StreamName;
  value: Json;
  at: Date;
  /** A record of a `parallel for` branch shown with its parent's: the branch's element(s). */
  branch?: string;
}

/** `job_history`: one status transition. */
export interface HistoryRow {
  /** Null for a transition the job row records instead of a row (sql/inspect.ts jobHistory). */
  id: string | null;
  job_id: string;
  /** Database time of the transition. */
  at: Date;
  from_status: JobStatus | null;
  to_status: JobStatus;
  worker: string | null;
  reason: string;
}

/** `signals`: the per-job mailbox. */
export interface SignalRow {
  id: string;
  job_id: string;
  name: string;
  payload: Json;
  sent_at: Date;
  /** Set in the same transaction as the job's next fenced write after a wait received it. */
  consumed_at: Date | null;
}

/** `workers`: one worker process, alive while its heartbeat is fresh. */
export interface WorkerRow {
  name: string;
  host: string;
  pid: number;
  concurrency: number;
  /** Not alive once its heartbeat is older than this. */
  timeout_ms: number;
  started_at: Date;
  heartbeat_at: Date;
  draining: boolean;
  drain_deadline: Date | null;
  drain_suspend: boolean;
  /** Set when it exited cleanly (then it is not alive, whatever its heartbeat). */
  stopped_at: Date | null;
  /** The worker group it serves (`runbook worker --group`). */
  worker_group: string;
}

/** `deployments`: a generation of the worker deployment. */
export interface DeploymentRow {
  generation: string;
  workers: string[];
  /** Made by a worker joining on its own, not by `runbook deploy`. */
  auto: boolean;
  /** The worker group whose slots it shares out. */
  worker_group: string;
  created_at: Date;
}

export type Overlap = "skip" | "queue" | "allow";
export const OVERLAPS: readonly Overlap[] = ["skip", "queue", "allow"];

/** `schedules`: a cron schedule whose ticks the live workers fire (runtime/schedules.ts). */
export interface ScheduleRow {
  name: string;
  runbook: string;
  /** Five fields, or six with seconds first. */
  cron: string;
  /** IANA time zone the cron is read in. */
  tz: string;
  params: Record<string, Json>;
  /** The worker group its jobs go to (null: the default group). */
  worker_group: string | null;
  overlap: Overlap;
  /** bigint: arrives as text. */
  catchup_ms: string;
  paused: boolean;
  source: "cli" | "file";
  source_file: string | null;
  /** The next tick not yet handled; null when the cron has no further time. */
  next_at: Date | null;
  /** overlap queue: the tick waiting for the running job to finish. */
  pending_tick: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type TickOutcome = "fired" | "skipped" | "queued" | "triggered" | "missed";

/** `schedule_ticks`: what became of one tick (or, for missed, a run of them). */
export interface TickRow {
  schedule: string;
  tick: Date;
  outcome: TickOutcome;
  job_id: string | null;
  /** missed: the last tick of the run, and how many. */
  last_tick: Date | null;
  missed: number | null;
  reason: string | null;
  at: Date;
}
