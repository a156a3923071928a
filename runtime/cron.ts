// Cron expressions and time zones, read by croner (never by hand): five fields, or six with
// seconds first; the zone is an IANA name, and croner handles its daylight-saving changes (a
// time in a spring-forward gap fires at the first valid time after it; a repeated autumn time
// fires once). Everything here is pure: the clock is always the caller's (the database's).
import { Cron } from "croner";

/** What is wrong with a cron expression or zone, as one line; null when it is fine. */
export function cronProblem(expr: string, tz: string): string | null {
  const zone = zoneProblem(tz);
  if (zone) return zone;
  const fields = expr.trim() === "" ? 0 : expr.trim().split(/\s+/).length;
  const form = 'five fields "min hour day month weekday", or six with seconds first';
  // Only the count of fields is ours (croner's own message for it mentions seven).
  if (fields !== 5 && fields !== 6) return `cron ${JSON.stringify(expr)} has ${fields} field${fields === 1 ? "" : "s"}: write ${form}`;
  try {
    cronOf(expr, tz).nextRun(new Date(0));
    return null;
  } catch (e) {
    // croner says "CronPattern: Invalid value for minute: 61".
    const why = (e as Error).message.replace(/^CronPattern:\s*/, "").replace(/\.$/, "");
    return `cron ${JSON.stringify(expr)} is not valid: ${why.charAt(0).toLowerCase()}${why.slice(1)} (${form})`;
  }
}

/** What is wrong with a time zone name, as one line; null when it is fine. */
export function zoneProblem(tz: string): string | null {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return null;
  } catch {
    return `time zone ${JSON.stringify(tz)} is not known (use an IANA name like UTC, Europe/Paris or America/New_York)`;
  }
}

function cronOf(expr: string, tz: string): Cron {
  return new Cron(expr, { paused: true, timezone: tz, mode: "5-or-6-parts" });
}

/** A schedule's cron, ready to step through its ticks. */
export class Ticks {
  private readonly cron: Cron;

  constructor(expr: string, tz: string) {
    this.cron = cronOf(expr, tz);
  }

  /** The first tick strictly after `t`, or null when there is none. */
  after(t: Date): Date | null {
    return this.cron.nextRun(t);
  }

  /** The last tick strictly before `t`, or null. */
  before(t: Date): Date | null {
    return this.cron.previousRuns(1, t)[0] ?? null;
  }

  /** The first tick at or after `t`. */
  atOrAfter(t: Date): Date | null {
    return this.cron.nextRun(new Date(t.getTime() - 1));
  }
}

/** The id of a tick's job: derived from the schedule and the tick, so firing it twice makes one job. */
export function tickJobId(schedule: string, tick: Date): string {
  return `${schedule}@${tick.toISOString()}`;
}
