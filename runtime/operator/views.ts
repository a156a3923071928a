// What the operator API answers with: the shapes the CLI prints and the HTTP API sends as JSON.
// Types only; the functions that build them are beside their actions (jobs.ts, fleet.ts, ...).
import type { Json, ParamInfo } from "../abi.js";
import type { DeploymentRow, HistoryRow, JobRow, Overlap, StreamRow } from "../rows.js";
import type { BranchSummary, JobSummary } from "../sql/inspect.js";
import type { QueuedReason } from "../sql/placement.js";
import type { WorkerStatus } from "../sql/workers.js";

/** The schedule tick that made a job (migration 0009). */
export interface ScheduleRef {
  name: string;
  tick: Date;
}

/** A job's two schedule columns as one field, `schedule`: {name, tick}, or null. */
export type WithSchedule<T> = Omit<T, "schedule" | "schedule_tick"> & { schedule: ScheduleRef | null };

/** A job without its raw checkpoint state (see `JobDetail.locals`) and lease epoch. */
export type JobView = WithSchedule<Omit<JobRow, "state" | "lease_epoch">>;

/** A job in a list. */
export type JobListItem = WithSchedule<JobSummary>;

/** One frame of the job's latest checkpoint: the runbook it runs and its named locals. */
export interface FrameLocals {
  runbook: string;
  /** Parameters and `let`s by name; the compiler's temporaries (`$...`) are left out. */
  locals: Record<string, Json>;
}

export interface JobDetail {
  job: JobView;
  /** Why a queued job does not run yet, as far as placement goes (null: nothing holds it back). */
  waiting: QueuedReason | null;
  history: HistoryRow[];
  /** The jobs it started (`start`, the branches of a `parallel for`), oldest first. */
  children: JobListItem[];
  /** Its `parallel for` branches (every run), with their elements, in run and element order. */
  branches: BranchSummary[];
  /**
   * The latest checkpoint's call stack, the job's own runbook first; null before the first
   * checkpoint. Locals that hold a secret are sealed in the database and not shown: `sealed`
   * says some are hidden.
   */
  locals: { frames: FrameLocals[]; sealed: boolean } | null;
}

export interface JobQuery {
  status?: string;
  runbook?: string;
  parent?: string;
  schedule?: string;
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

export interface JobPage {
  jobs: JobListItem[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

export interface OutputPage {
  records: StreamRow[];
  /** Pass as `after` for the next page; null when the job has no more records yet. */
  next: number | null;
}

export interface StartRequest {
  runbook: string;
  /** `--param k=v` flags (the CLI, a webhook's fixed parameters) or JSON values (the HTTP API). */
  params: { flags: string[] } | { values: unknown };
  /** Idempotency key: a retried start never makes a second job. */
  id?: string;
  /** The worker group (default: the runbook's declared group, else `default`). */
  group?: string;
  /** Higher first among due jobs of the same slot (default 0). */
  priority?: number;
}

export interface WorkerView extends WorkerStatus {
  /** Its worker group (the same as worker_group). */
  group: string;
  state: WorkerState;
  /** Slots it owns now. */
  slots: number;
  /** Named in the current deployment. */
  deployed: boolean;
}

export type WorkerState = "alive" | "draining" | "stopped" | "dead" | "never seen" | "in another group";

export interface FleetView {
  /** The `default` group's deployment. */
  deployment: DeploymentRow | null;
  /** Every group's deployment, by group (the `default` group always listed). */
  deployments: Record<string, DeploymentRow | null>;
  workers: WorkerView[];
  /** The owner of each slot of the `default` group now (index = slot), null when no live worker may own it. */
  owners: (string | null)[];
}

export interface DeploymentView {
  deployment: DeploymentRow | null;
  workers: { name: string; state: WorkerState; slots: number }[];
}

export interface VersionView {
  runbook: string;
  hash: string;
  created_at: Date;
  params: ParamInfo[];
  /** Every runbook of the bundle: its file, and its `.runbook` text (null: published without it). */
  modules: Record<string, { file: string; source: string | null }>;
}

export interface RunbookView {
  name: string;
  /** The version `start NAME` runs. */
  current: { hash: string; params: ParamInfo[]; published_at: Date | null };
  versions: { hash: string; created_at: Date; current: boolean }[];
}

/** A schedule as `schedule list --json` and GET /api/schedules show it. */
export interface ScheduleView {
  name: string;
  runbook: string;
  cron: string;
  tz: string;
  params: Record<string, Json>;
  /** The worker group its jobs go to; null: the runbook's declared group, else `default`. */
  group: string | null;
  paused: boolean;
  overlap: Overlap;
  catchup_ms: number;
  /** The next tick, ISO-8601 UTC; null while paused (or when the cron has no further time). */
  next: string | null;
  /** overlap queue: the tick waiting for the running job to finish. */
  queued_tick: string | null;
  /** Made by `runbook schedule set` (cli) or declared in a schedules file (file). */
  source: "cli" | "file";
  file: string | null;
}
