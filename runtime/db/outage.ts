// A long-running process (the worker) losing its database: a restart, `runbook db stop`, a
// partition. Every part of the worker fails at once then (heartbeat, claims, LISTEN, each
// running job's next write), each on its own timer; reporting each failure flooded the log
// (several lines a second, for as long as the outage lasted). The heartbeat alone decides and
// reports: the log gets one line when a heartbeat cannot reach the database, one line per
// interval while it stays away, and one when a heartbeat goes through again. The other parts
// stay quiet about a connection failure (`isConnectionError`): a claim or LISTEN is retried
// anyway, and a job stopped in the outage is counted, not logged. Connections that hung on the
// old address can still fail after the database is back; they are not an outage.

/** SQLSTATEs of a server that is gone, going or not yet there (class 08, 57P01-57P03). */
const SERVER_GONE = /^(08|57P0[123])/;
/** Socket-level failures to reach a server. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EPIPE"]);
/** pg's own messages for a connection that failed, ended or timed out (they carry no code). */
const PG_CONNECTION_MESSAGE = /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|connection timeout|timeout expired/i;

/** Did this error come from the database being unreachable (rather than from a statement)? */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || typeof err !== "object") return false;
  const code = typeof err.code === "string" ? err.code : "";
  if (SOCKET_CODES.has(code) || SERVER_GONE.test(code)) return true;
  return typeof err.message === "string" && PG_CONNECTION_MESSAGE.test(err.message);
}

export interface OutageOptions {
  /** Where the database is now, for the log (host:port). */
  where(): string;
  /** At most one "still unreachable" line per this long. */
  everyMs: number;
  log(line: string): void;
}

export class Outage {
  /** performance.now() when the database was lost; null while it is reachable. */
  private since: number | null = null;
  private lastLine = 0;
  /** Jobs this worker stopped running since the outage began (their writes failed). */
  private stoppedJobs = 0;
  /** performance.now() when the latest outage ended. */
  private lastEnd = -Infinity;

  constructor(private readonly o: OutageOptions) {}

  /** True while the database is unreachable (from the first failure to the next heartbeat). */
  get down(): boolean {
    return this.since !== null;
  }

  /**
   * A heartbeat failed. True when the database is unreachable: reported here (one line per
   * interval at most). False for any other error, which the caller reports itself.
   */
  failed(e: unknown): boolean {
    if (!isConnectionError(e)) return false;
    const now = performance.now();
    const reason = oneLine(e);
    if (this.since === null) {
      this.since = now;
      this.lastLine = now;
      this.stoppedJobs = 0;
      this.o.log(`cannot reach the database at ${this.o.where()} (${reason}); retrying: running jobs stop at their next write and resume from their latest checkpoint once it is back`);
    } else if (now - this.lastLine >= this.o.everyMs) {
      this.lastLine = now;
      this.o.log(`still cannot reach the database at ${this.o.where()} after ${seconds(now - this.since)} (${reason})${this.jobsSoFar()}`);
    }
    return true;
  }

  /** A running job stopped here because its write failed in the outage (counted, not logged each). */
  jobStopped(): void {
    this.stoppedJobs++;
  }

  /** A heartbeat went through: the database is back. */
  reached(): void {
    if (this.since === null) return;
    this.lastEnd = performance.now();
    this.o.log(`the database at ${this.o.where()} is reachable again after ${seconds(this.lastEnd - this.since)}${this.jobsSoFar()}; working again`);
    this.since = null;
  }

  /**
   * Did an outage end after `t` (performance.now())? A job running since before then may still
   * fail on a connection opened to where the database was (it hangs until its timeout): that
   * failure is the outage's, already reported.
   */
  endedSince(t: number): boolean {
    return this.lastEnd > t;
  }

  private jobsSoFar(): string {
    return this.stoppedJobs === 0 ? "" : `; jobs stopped here meanwhile: ${this.stoppedJobs} (they resume from their latest checkpoint)`;
  }
}

/** The error's message on one line (pg's messages have no stack in them; ours never show one). */
function oneLine(e: unknown): string {
  const err = e as { message?: unknown; code?: unknown };
  const text = typeof err.message === "string" && err.message ? err.message : String(err.code ?? e);
  return text.split("\n")[0];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
