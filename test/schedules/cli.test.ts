// The schedule commands as a user runs them: clear one-line errors for bad input, list/show,
// pause/resume/trigger/remove, a scheduled job's `schedule` in `jobs` and `job`; and the
// schedules file `publish` applies (a changed or removed line changes or removes its schedule;
// CLI-made schedules untouched; a bad line: file:line:column, a caret, nothing published).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Operator } from "../../runtime/operator/index.js";
import { Cluster } from "../fault/harness.js";
import { runbook } from "../runtime/process.js";

let c: Cluster;
let project: string;
beforeAll(async () => {
  c = await Cluster.create();
  project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-schedules-"));
  fs.writeFileSync(path.join(project, "greet.runbook"), 'runbook greet(who: string, times: number = 1) -> string {\n  return "hi ${who}"\n}\n');
});
afterAll(async () => {
  await c?.destroy();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

const cli = (...args: string[]) => c.cli(args);
const inProject = (...args: string[]) => runbook(args, { cwd: project, env: c.env });

describe("runbook schedule set: bad input is one line, exit 2 (usage) or 1 (unknown runbook)", () => {
  const cases: [string[], number, RegExp][] = [
    [["--cron", "61 * * * *"], 2, /^runbook: cron "61 \* \* \* \*" is not valid: invalid value for minute: 61 \(five fields/],
    [["--cron", "* * *"], 2, /^runbook: cron "\* \* \*" has 3 fields: write five fields/],
    [["--cron", "0 2 * * *", "--tz", "Mars/Base"], 2, /^runbook: time zone "Mars\/Base" is not known/],
    [["--cron", "0 2 * * *", "--catchup", "soon"], 2, /^runbook: catch-up "soon" is not a duration/],
    [["--cron", "0 2 * * *", "--param", "n=many"], 2, /^runbook: parameter n \(number\): "many" is not a number/],
    [["--cron", "0 2 * * *", "--param", "nope=1"], 2, /^runbook: unknown parameter nope for runbook steps \(it takes n, ms, gate\)/],
    [["--cron", "0 2 * * *", "--group", "a b"], 2, /^runbook: group "a b" is not a valid group name/],
    [["--cron", "0 2 * * *", "--overlap", "sometimes"], 2, /error: option '--overlap <policy>' argument 'sometimes' is invalid/],
  ];
  for (const [args, code, message] of cases) {
    it(args.slice(2).join(" ") || args.join(" "), async () => {
      const r = await cli("schedule", "set", "bad", "--runbook", "steps", ...args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
    });
  }

  it("an unknown runbook, with a suggestion", async () => {
    const r = await cli("schedule", "set", "bad", "--runbook", "stepz", "--cron", "0 2 * * *");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("runbook: no published runbook stepz (did you mean steps?)\n");
  });

  it("a bad name", async () => {
    const r = await cli("schedule", "set", "no/slash", "--runbook", "steps", "--cron", "0 2 * * *");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^runbook: schedule name "no\/slash" is not valid/);
  });

  it("nothing was stored", async () => {
    expect(JSON.parse((await cli("schedule", "list", "--json")).stdout)).toEqual([]);
  });
});

describe("set, list, show, pause, resume, trigger, remove; the jobs of a schedule", () => {
  it("lists each schedule with its next tick in ISO-8601 UTC", async () => {
    const r = await cli("schedule", "set", "nightly", "--runbook", "steps", "--cron", "30 2 * * *", "--tz", "Europe/Paris", "--param", "n=2", "--overlap", "queue", "--catchup", "1h", "--group", "dc1");
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^schedule nightly: steps at "30 2 \* \* \*" \(Europe\/Paris\); next \d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z\n$/);
    const [s] = JSON.parse((await cli("schedule", "list", "--json")).stdout);
    expect(s).toMatchObject({ name: "nightly", runbook: "steps", cron: "30 2 * * *", tz: "Europe/Paris", params: { n: 2 }, group: "dc1", paused: false, overlap: "queue", catchup_ms: 3_600_000, source: "cli", file: null });
    expect(s.next).toMatch(/^\d{4}-\d\d-\d\dT(00|01):30:00\.000Z$/); // 02:30 in Paris is 00:30 or 01:30 UTC
    // The operator API (GET /api/schedules) shows the same.
    expect(JSON.parse(JSON.stringify(await new Operator(c.db, "test").schedules()))).toEqual(JSON.parse((await cli("schedule", "list", "--json")).stdout));
    const text = (await cli("schedule", "list")).stdout;
    expect(text).toMatch(/^NAME +RUNBOOK +CRON +TZ +OVERLAP +STATE +NEXT +FROM\nnightly +steps +30 2 \* \* \* +Europe\/Paris +queue +active +\d{4}-/);
  });

  it("pauses (no next tick) and resumes", async () => {
    expect((await cli("schedule", "pause", "nightly")).stdout).toBe("schedule nightly: paused\n");
    expect(JSON.parse((await cli("schedule", "list", "--json")).stdout)[0]).toMatchObject({ paused: true, next: null });
    expect((await cli("schedule", "resume", "nightly")).stdout).toMatch(/^schedule nightly: resumed; next \d{4}-/);
    expect(JSON.parse((await cli("schedule", "list", "--json")).stdout)[0].paused).toBe(false);
    // The same through the operator API (POST /api/schedules/:name/pause|resume).
    const op = new Operator(c.db, "test");
    expect(await op.pauseSchedule("nightly")).toMatchObject({ name: "nightly", paused: true, next: null });
    expect((await op.resumeSchedule("nightly")).next).toMatch(/^\d{4}-/);
    await expect(op.pauseSchedule("nightlly")).rejects.toMatchObject({ kind: "not-found", message: "no schedule nightlly (did you mean nightly?)" });
  });

  it("trigger starts the job now; jobs --schedule and job show the schedule and the tick", async () => {
    const t = await cli("schedule", "trigger", "nightly", "--json");
    expect(t.stderr).toBe("");
    const { id, tick } = JSON.parse(t.stdout);
    expect(id).toBe(`nightly@${tick}`);
    const listed = JSON.parse((await cli("jobs", "--schedule", "nightly", "--json")).stdout);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, runbook: "steps", status: "queued", schedule: { name: "nightly", tick } });
    expect((await cli("jobs", "--schedule", "other")).stdout).toBe("no jobs of schedule other\n");
    const shown = JSON.parse((await cli("job", id, "--json")).stdout);
    expect(shown.schedule).toEqual({ name: "nightly", tick });
    expect(shown.job.schedule).toEqual({ name: "nightly", tick });
    expect(shown.job.worker_group).toBe("dc1"); // the schedule's --group, through insertJobs
    expect((await cli("job", id)).stdout).toContain(`schedule:   nightly, tick ${tick}\n`);
    // A job not made by a schedule has schedule null.
    const [other] = await c.enqueue("steps", { n: 1 });
    expect(JSON.parse((await cli("job", other, "--json")).stdout).schedule).toBeNull();
    const show = await cli("schedule", "show", "nightly");
    expect(show.stdout).toContain(`  ${tick} triggered: job ${id}\n`);
    expect(JSON.parse((await cli("schedule", "show", "nightly", "--json")).stdout).ticks[0]).toMatchObject({ tick, outcome: "triggered", job: id });
  });

  it("names what is missing", async () => {
    for (const verb of ["pause", "resume", "remove", "trigger", "show"]) {
      const r = await cli("schedule", verb, "nightlly");
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("runbook: no schedule nightlly (did you mean nightly?)\n");
    }
  });

  it("remove keeps the jobs", async () => {
    expect((await cli("schedule", "remove", "nightly")).stdout).toBe("schedule nightly: removed (its jobs stay)\n");
    expect(JSON.parse((await cli("schedule", "list", "--json")).stdout)).toEqual([]);
    expect(JSON.parse((await cli("jobs", "--schedule", "nightly", "--json")).stdout)).toHaveLength(1);
  });
});

describe("the schedules file", () => {
  const write = (text: string) => fs.writeFileSync(path.join(project, "schedules.cron"), text);

  it("publish creates the schedules it declares", async () => {
    expect((await cli("schedule", "set", "by-hand", "--runbook", "steps", "--cron", "0 3 * * *")).code).toBe(0);
    write(`# NAME   CRON (5 or 6 fields)  RUNBOOK  OPTIONS
hello     0 9 * * MON-FRI           greet    tz=America/New_York param:who=world
often     */10 * * * * *            greet    overlap=allow catchup=5m param:who="two words" param:times=3
`);
    const r = await inProject("publish", ".");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("schedule hello: created (schedules.cron)\n");
    expect(r.stdout).toContain("schedule often: created (schedules.cron)\n");
    const list = JSON.parse((await cli("schedule", "list", "--json")).stdout);
    expect(list.map((s: { name: string }) => s.name)).toEqual(["by-hand", "hello", "often"]);
    expect(list[1]).toMatchObject({ runbook: "greet", cron: "0 9 * * MON-FRI", tz: "America/New_York", params: { who: "world" }, overlap: "skip", source: "file", file: "schedules.cron" });
    expect(list[2]).toMatchObject({ cron: "*/10 * * * * *", overlap: "allow", catchup_ms: 300_000, params: { who: "two words", times: 3 } });
  });

  it("a changed line changes its schedule, an unchanged one is left alone, a removed one is removed; CLI schedules untouched", async () => {
    const { rows: before } = await c.db.pool.query<{ updated_at: Date }>("SELECT updated_at FROM schedules WHERE name = 'hello'");
    write(`hello  0 9 * * MON-FRI  greet  tz=America/New_York param:who=world\n`);
    let r = await inProject("publish", ".");
    expect(r.stdout).toContain("schedule hello: unchanged (schedules.cron)\n");
    expect(r.stdout).toContain("schedule often: removed (schedules.cron)\n");
    const { rows: after } = await c.db.pool.query<{ updated_at: Date }>("SELECT updated_at FROM schedules WHERE name = 'hello'");
    expect(after[0].updated_at).toEqual(before[0].updated_at);
    write(`hello  0 10 * * MON-FRI  greet  tz=America/New_York param:who=world\n`);
    r = await inProject("publish", ".");
    expect(r.stdout).toContain("schedule hello: changed (schedules.cron)\n");
    const list = JSON.parse((await cli("schedule", "list", "--json")).stdout);
    expect(list.map((s: { name: string; cron: string }) => [s.name, s.cron])).toEqual([["by-hand", "0 3 * * *"], ["hello", "0 10 * * MON-FRI"]]);
  });

  it("publishing a version whose parameters a CLI-made schedule no longer fits warns", async () => {
    expect((await inProject("schedule", "set", "greet-cli", "--runbook", "greet", "--cron", "0 8 * * *", "--param", "who=ops", "--param", "times=2")).code).toBe(0);
    fs.writeFileSync(path.join(project, "greet.runbook"), 'runbook greet(who: string, times: string = "1") -> string {\n  return "hi ${who}"\n}\n');
    const r = await inProject("publish", ".");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('runbook: warning: schedule greet-cli: parameter times is now string: expected string, got number 2 in the new version of greet; its jobs will fail until it is set again\n');
    fs.writeFileSync(path.join(project, "greet.runbook"), 'runbook greet(who: string, times: number = 1) -> string {\n  return "hi ${who}"\n}\n');
    expect((await inProject("publish", ".")).stderr).toBe("");
    expect((await inProject("schedule", "remove", "greet-cli")).code).toBe(0);
  });

  it("a declared schedule is changed in its file, not with schedule set or remove", async () => {
    const set = await cli("schedule", "set", "hello", "--runbook", "steps", "--cron", "0 2 * * *");
    expect(set.code).toBe(1);
    expect(set.stderr).toBe("runbook: schedule hello is declared in schedules.cron: change it there and publish\n");
    const rm = await cli("schedule", "remove", "hello");
    expect(rm.stderr).toBe("runbook: schedule hello is declared in schedules.cron: remove its line there and publish\n");
    expect((await cli("schedule", "pause", "hello")).code).toBe(0);
  });

  it("bad lines: file:line:column, a caret, and nothing is published", async () => {
    const versions = async () => (await c.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM versions WHERE runbook = 'greet'")).rows[0].n;
    const before = await versions();
    write(`hello  0 10 * * MON-FRI  greet  tz=America/New_York param:who=world
bad1   61 * * * *  greet  param:who=x
bad2   0 2 * * *  greet  tz=Mars/Base param:who=x
bad3   0 2 * * *  greet  overlap=never catchup=later param:who=x
bad4   0 2 * *  greet
bad5   0 2 * * *  nosuch
bad6   0 2 * * *  greet  param:times=lots param:who=x
bad7   0 2 * * *  greet
by-hand  0 2 * * *  greet  param:who=x
hello  0 2 * * *  greet  param:who=x
bad8   0 2 * * *  greet  colour=blue param:who=x
bad9   0 2 * * *  greet  param:who="unclosed
`);
    fs.writeFileSync(path.join(project, "greet.runbook"), 'runbook greet(who: string, times: number = 1) -> string {\n  return "hello ${who}"\n}\n');
    const r = await inProject("publish", ".");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const err = r.stderr;
    expect(err).toContain('schedules.cron:2:8: error: cron "61 * * * *" is not valid: invalid value for minute: 61');
    expect(err).toContain("bad1   61 * * * *  greet  param:who=x\n       ^~~~~~~~~~\n");
    expect(err).toContain('schedules.cron:3:26: error: time zone "Mars/Base" is not known');
    expect(err).toContain('schedules.cron:4:26: error: overlap "never" is not one of skip, queue, allow');
    expect(err).toContain('schedules.cron:4:40: error: catch-up "later" is not a duration');
    expect(err).toContain("schedules.cron:5:22: error: a schedule line is NAME, a cron of 5 or 6 fields, then RUNBOOK and options; this one has 6 words before its options");
    expect(err).toContain("schedules.cron:11:26: error: unknown option colour");
    expect(err).toContain("schedules.cron:12:26: error: this quoted value has no closing quote");
    expect(err).toContain("schedules.cron:10:1: error: schedule hello is declared twice");
    expect(err).toContain("runbook: nothing was published: fix the errors above\n");
    // The file is read and checked before the database is asked anything; fixed, the rest shows.
    write(`bad5   0 2 * * *  nosuch
bad6   0 2 * * *  greet  param:times=lots param:who=x
bad7   0 2 * * *  greet
by-hand  0 2 * * *  greet  param:who=x
`);
    const r2 = await inProject("publish", ".");
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("schedules.cron:1:19: error: no runbook nosuch is published or in this publish");
    expect(r2.stderr).toContain('schedules.cron:2:26: error: parameter times (number): "lots" is not a number');
    expect(r2.stderr).toContain("schedules.cron:3:19: error: missing parameter who (string): pass --param who=VALUE");
    expect(r2.stderr).toContain("schedules.cron:4:1: error: schedule by-hand exists already, made by `runbook schedule set`");
    // Nothing was published: the runbook's old version and the old schedules stand.
    expect(JSON.parse((await cli("schedule", "list", "--json")).stdout).map((s: { name: string }) => s.name)).toEqual(["by-hand", "hello"]);
    expect(await versions()).toBe(before);
  });
});
