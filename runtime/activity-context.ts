// The second argument every activity receives. Activity modules import it as a type only:
//   import type { ActivityContext } from "<path to>/runtime/activity-context.js";
// (a module may also declare the same shape itself; the compiler ignores the second parameter).

export interface ActivityContext {
  /** The id of the job running the activity. */
  jobId: string;
  /**
   * The 1-based attempt of the innermost `retry` block around this call in its runbook (1 when
   * the call is in no retry block): 2 and up mean an earlier attempt failed, e.g. clean up what
   * it left half done. It survives a worker crash with the retry's durable attempt counter.
   */
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
