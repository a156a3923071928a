// Schedules on real `runbook worker` processes: one job per tick while a worker is killed with
// kill -9 mid-run; each overlap policy, its jobs held by gates (never by timing); and catch-up
// after every worker stopped for a minute.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, LONG_TIMEOUT_MS, finishedCounts, waitFor } from "./harness.js";
import { contiguous, dbNow, jobsOf, passed, setSchedule, ticksOf, ticksRecorded } from "../schedules/helpers.js";

let c: Cluster;
beforeAll(async () => {
  // A lease timeout no loaded machine reaches by accident: the fire passes count a longer gap
  // between passes as an outage (runtime/schedules.ts).
  c = await Cluster.create(undefined, { timeoutMs: LONG_TIMEOUT_MS });
  await Promise.all([c.startWorker("s1"), c.startWorker("s2")]);
  await c.settle(["s1", "s2"]);
  await passed(c);
});
afterAll(async () => {
  await c?.destroy();
});

const EVERY_2S = "*/2 * * * * *";

it("every 2 s for 30 s on two workers, one killed with kill -9 mid-run: one job per tick, no tick lost", async () => {
  const first = await setSchedule(c, "every2", ["--runbook", "steps", "--cron", EVERY_2S, "--overlap", "allow", "--param", "n=1", "--param", "ms=1500"]);
  const end = first.getTime() + 30_000;
  // Killed while it runs a tick's job (its step started, not ended).
  const victim = await waitFor("s1 running a tick's job", async () => {
    const { rows } = await c.db.pool.query<{ job: string }>("SELECT job FROM ledger WHERE worker = 's1' AND job LIKE 'every2@%' AND ended_at IS NULL LIMIT 1");
    return rows[0]?.job;
  }, 60_000, 100);
  await c.crash("s1");
  await waitFor("30 s of ticks", async () => (await dbNow(c)).getTime() > end + 1000, 120_000, 500);
  const r = await c.cli(["schedule", "pause", "every2"]);
  expect(r.code).toBe(0);

  const ticks = (await ticksOf(c, "every2")).filter((t) => t.tick.getTime() <= end);
  const jobs = (await jobsOf(c, "every2")).filter((j) => j.tick.getTime() <= end);
  expect(ticks.length).toBe(16); // first, first + 2 s, ..., first + 30 s
  expect(ticks[0].tick).toEqual(first);
  expect(contiguous(ticks.map((t) => t.tick), 2000)).toBe(true);
  expect(ticks.every((t) => t.outcome === "fired")).toBe(true);
  expect(jobs.map((j) => j.id)).toEqual(ticks.map((t) => t.job_id));
  expect(jobs.map((j) => j.id)).toEqual(ticks.map((t) => `every2@${t.tick.toISOString()}`));

  // Every job ends, the killed one taken over on s2; each step ran to its end exactly once.
  await c.waitAll(jobs.map((j) => j.id), "completed", 120_000);
  const ledger = (await c.ledger()).filter((l) => l.job.startsWith("every2@") && jobs.some((j) => j.id === l.job));
  for (const j of jobs) expect(finishedCounts(ledger.filter((l) => l.job === j.id)).get(1), j.id).toBe(1);
  expect(ledger.filter((l) => l.job === victim).map((l) => l.worker)).toEqual(["s1", "s2"]);
  console.log(`every2: ${ticks.length} ticks, ${jobs.length} jobs, job ${victim} killed on s1 and finished on s2`);
  await c.startWorker("s1");
  await c.settle(["s1", "s2"]);
}, 300_000);

it("overlap skip, queue and allow while the first job is held at a gate", async () => {
  await c.closeGates(["ov-skip:1", "ov-queue:1", "ov-allow:1"]);
  for (const policy of ["skip", "queue", "allow"]) {
    await setSchedule(c, `ov-${policy}`, ["--runbook", "steps", "--cron", EVERY_2S, "--overlap", policy, "--param", "n=1", "--param", "ms=0", "--param", `gate=ov-${policy}`]);
  }
  // Five ticks recorded each, the first job held at its gate.
  await c.reached(["ov-skip:1", "ov-queue:1", "ov-allow:1"]);
  const held = new Map<string, number>();
  for (const p of ["skip", "queue", "allow"]) {
    const t = await ticksRecorded(c, `ov-${p}`, 5);
    held.set(p, t.length);
  }
  const outcomes = async (p: string) => (await ticksOf(c, `ov-${p}`)).map((t) => t.outcome);
  // skip: the first tick fired, every later one skipped while its job has not finished.
  const skip = await outcomes("skip");
  expect(skip[0]).toBe("fired");
  expect(skip.slice(1).every((o) => o === "skipped")).toBe(true);
  expect((await jobsOf(c, "ov-skip")).length).toBe(1);
  // queue: one tick waits behind it, the later ones are skipped.
  const queue = await outcomes("queue");
  expect(queue.slice(0, 2)).toEqual(["fired", "queued"]);
  expect(queue.slice(2).every((o) => o === "skipped")).toBe(true);
  expect((await jobsOf(c, "ov-queue")).length).toBe(1);
  // allow: a job at every tick, all of them at the gate together.
  const allow = await outcomes("allow");
  expect(allow.every((o) => o === "fired")).toBe(true);
  await c.reached(["ov-allow:1"], 3);

  // The gates open: the queued tick's job runs once the first has finished, and after that
  // skip and queue fire again at the next tick.
  const queuedTick = (await ticksOf(c, "ov-queue")).find((t) => t.outcome === "queued")!.tick;
  await c.openGates(["ov-skip:1", "ov-queue:1", "ov-allow:1"]);
  await waitFor("the queued tick's job", async () => (await jobsOf(c, "ov-queue")).some((j) => j.tick.getTime() === queuedTick.getTime()), 60_000, 200);
  await waitFor("skip to fire again", async () => (await ticksOf(c, "ov-skip")).filter((t) => t.outcome === "fired").length >= 2, 60_000, 200);
  for (const p of ["skip", "queue", "allow"]) {
    await c.cli(["schedule", "pause", `ov-${p}`]);
    const jobs = await jobsOf(c, `ov-${p}`);
    await c.waitAll(jobs.map((j) => j.id), "completed", 120_000);
    // One job per tick, under every policy.
    expect(new Set(jobs.map((j) => j.tick.getTime())).size).toBe(jobs.length);
  }
  // Under skip and queue no job was queued before the one before it had finished.
  const { rows } = await c.db.pool.query<{ overlapping: number }>(
    `SELECT count(*)::int AS overlapping FROM jobs a JOIN jobs b ON a.schedule = b.schedule AND a.id < b.id
     WHERE a.schedule IN ('ov-skip', 'ov-queue') AND b.created_at < a.finished_at`,
  );
  expect(rows[0].overlapping).toBe(0);
  console.log(`overlap: ticks while held ${[...held].map(([p, n]) => `${p} ${n}`).join(", ")}`);
}, 300_000);

it("catch-up after every worker stopped for a minute: the ticks within --catchup fire once each, oldest first; older ones are recorded missed", async () => {
  // Every worker stops for real (SIGTERM, the processes exit); the schedules are set then, so no
  // tick of theirs fired before.
  for (const w of ["s1", "s2"]) c.signal(w, "SIGTERM");
  await Promise.all(["s1", "s2"].map((w) => c.worker(w).exited));
  await setSchedule(c, "catchup", ["--runbook", "steps", "--cron", EVERY_2S, "--overlap", "allow", "--catchup", "20s", "--param", "n=1", "--param", "ms=0"]);
  await setSchedule(c, "nocatchup", ["--runbook", "steps", "--cron", EVERY_2S, "--overlap", "allow", "--param", "n=1", "--param", "ms=0"]);
  // The minute is simulated on the schedules' clock: the last fire pass and the next ticks move
  // a minute back. A fire pass reads only those two times, so this is the state a minute with no
  // worker leaves (and a 2 s tick moved by 60 s is still a tick).
  await c.db.pool.query(`UPDATE schedules SET next_at = next_at - interval '60 seconds' WHERE name IN ('catchup', 'nocatchup');
                         UPDATE schedule_clock SET passed_at = passed_at - interval '60 seconds'`);
  const shifted = (await c.db.pool.query<{ next_at: Date }>("SELECT next_at FROM schedules WHERE name = 'catchup'")).rows[0].next_at;
  await c.startWorker("s3");
  const all = await ticksRecorded(c, "catchup", 1, (t) => t.outcome === "missed");
  const missed = all.find((t) => t.outcome === "missed")!;
  const pass = missed.at; // the fire pass's transaction time
  expect(missed.tick).toEqual(shifted);
  expect(missed.last_tick!.getTime()).toBeLessThan(pass.getTime() - 20_000);
  expect(missed.missed).toBe((missed.last_tick!.getTime() - missed.tick.getTime()) / 2000 + 1);
  // Fired in that pass: every tick from the one after the missed run to the pass, within 20 s.
  const caught = all.filter((t) => t.outcome === "fired" && t.tick > missed.last_tick! && t.tick <= pass);
  expect(caught.length).toBeGreaterThanOrEqual(10);
  expect(caught.length).toBeLessThanOrEqual(11);
  expect(caught[0].tick.getTime()).toBe(missed.last_tick!.getTime() + 2000);
  expect(caught[0].tick.getTime()).toBeGreaterThanOrEqual(pass.getTime() - 20_000);
  expect(contiguous(caught.map((t) => t.tick), 2000)).toBe(true);
  // Queued oldest first: their history rows were written in tick order.
  const { rows: order } = await c.db.pool.query<{ job_id: string }>("SELECT job_id FROM job_history WHERE job_id = ANY($1) AND from_status IS NULL ORDER BY id", [caught.map((t) => t.job_id)]);
  expect(order.map((o) => o.job_id)).toEqual(caught.map((t) => t.job_id));
  await c.waitAll(caught.map((t) => t.job_id!), "completed", 120_000);

  // Without a catch-up window, the whole minute is recorded missed and nothing of it fired.
  const none = await ticksRecorded(c, "nocatchup", 1, (t) => t.outcome === "missed");
  const m = none.find((t) => t.outcome === "missed")!;
  expect(none.filter((t) => t.outcome === "fired" && t.tick > m.tick && t.tick <= m.at)).toEqual([]);
  expect(m.last_tick!.getTime()).toBeGreaterThan(m.at.getTime() - 2000);
  for (const n of ["catchup", "nocatchup"]) await c.cli(["schedule", "pause", n]);
}, 300_000);
