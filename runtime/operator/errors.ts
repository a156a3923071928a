// The one error an operator action reports: a one-line message and what kind of failure it is.
// The CLI prints it as `runbook: MESSAGE` with an exit code, the HTTP API as JSON {error} with a
// status code; both read the kind here, so they never disagree on what is whose fault.

/**
 * invalid: the request itself is wrong (a bad parameter, an unknown status);
 * not-found: it names a job, runbook, worker, token or webhook that does not exist;
 * conflict: the thing exists but is in no state for this (a finished job cannot be suspended);
 * failed: the action was tried and did not succeed (nothing compiles, nothing to publish).
 */
export type OperatorErrorKind = "invalid" | "not-found" | "conflict" | "failed";

export class OperatorError extends Error {
  constructor(
    message: string,
    public readonly kind: OperatorErrorKind = "failed",
  ) {
    super(message);
  }

  /** The CLI's exit code: 2 for bad usage, 1 for everything else. */
  get exitCode(): 1 | 2 {
    return this.kind === "invalid" ? 2 : 1;
  }
}

/** The HTTP status of each kind. */
export function httpStatus(kind: OperatorErrorKind): 400 | 404 | 409 | 422 {
  switch (kind) {
    case "invalid":
      return 400;
    case "not-found":
      return 404;
    case "conflict":
      return 409;
    case "failed":
      return 422;
  }
}
