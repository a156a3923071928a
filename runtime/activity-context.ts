// The second argument every activity receives. Activity modules import it as a type only:
//   import type { ActivityContext } from "<path to>/runtime/activity-context.js";
// (a module may also declare the same shape itself; the compiler ignores the second parameter).

export interface ActivityContext {
  /** The id of the job running the activity. */
  jobId: string;
  /** 1 for the first run of this call; counts up when a `retry` block runs the call again. */
  attempt: number;
  /** Fires when the job is stopped or its worker loses the job's lease: stop work promptly. */
  signal: AbortSignal;
  /** Writes one line to the job's verbose (log) stream. */
  log(message: string): void;
  /** The worker running the job (absent outside a worker, e.g. `runbook test`). */
  worker?: string;
  /**
   * The job's lease epoch on that worker: a fencing token. An external system that stores it
   * with each write, and refuses a lower one, is safe from a worker that lost the job mid-call.
   */
  leaseEpoch?: string;
}
