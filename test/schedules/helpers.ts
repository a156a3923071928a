// What the schedule tests with real workers share: setting a schedule through the CLI, waiting
// for the workers' fire passes, and reading the ticks and jobs a schedule made.
import { expect } from "vitest";
import type { Cluster } from "../fault/harness.js";
import { waitFor } from "../fault/harness.js";

export interface Tick {
  tick: Date;
  outcome: string;
  job_id: string | null;
  last_tick: Date | null;
  missed: number | null;
  at: Date;
}

/** `runbook schedule set NAME ARGS`; returns the first tick it printed. */
export async function setSchedule(c: Cluster, name: string, args: string[]): Promise<Date> {
  const r = await c.cli(["schedule", "set", name, ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return new Date(/; next (\S+)\n$/.exec(r.stdout)![1]);
}

export async function dbNow(c: Cluster): Promise<Date> {
  return (await c.db.pool.query<{ now: Date }>("SELECT clock_timestamp() AS now")).rows[0].now;
}

/** Waits until a fire pass has run after this call (so the workers are firing). */
export async function passed(c: Cluster): Promise<void> {
  const since = await dbNow(c);
  await waitFor("a schedule fire pass", async () => {
    const { rows } = await c.db.pool.query<{ ok: boolean }>("SELECT passed_at > $1 AS ok FROM schedule_clock", [since]);
    return rows[0].ok;
  }, 60_000);
}

export async function ticksOf(c: Cluster, name: string): Promise<Tick[]> {
  const { rows } = await c.db.pool.query<Tick>("SELECT tick, outcome, job_id, last_tick, missed, at FROM schedule_ticks WHERE schedule = $1 ORDER BY tick", [name]);
  return rows;
}

export async function jobsOf(c: Cluster, name: string): Promise<{ id: string; tick: Date; status: string }[]> {
  const { rows } = await c.db.pool.query<{ id: string; tick: Date; status: string }>("SELECT id, schedule_tick AS tick, status FROM jobs WHERE schedule = $1 ORDER BY schedule_tick", [name]);
  return rows;
}

/** Waits until the schedule has recorded at least `n` ticks that match `where`. */
export async function ticksRecorded(c: Cluster, name: string, n: number, where: (t: Tick) => boolean = () => true, timeoutMs = 60_000): Promise<Tick[]> {
  return waitFor(`${n} ticks of ${name}`, async () => {
    const all = await ticksOf(c, name);
    return all.filter(where).length >= n ? all : null;
  }, timeoutMs, 200);
}

/** Every `stepMs` between the first and the last of `ticks`: none is missing. */
export function contiguous(ticks: Date[], stepMs: number): boolean {
  return ticks.every((t, i) => i === 0 || t.getTime() - ticks[i - 1].getTime() === stepMs);
}
