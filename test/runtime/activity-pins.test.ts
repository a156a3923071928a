// Activity code pinned to the published version, with real `runbook publish`, `runbook worker`
// and `runbook job` processes in a project folder: a worker whose module (or a local file it
// imports) differs from what was published leaves the job queued and says why, and runs it once
// its files match again; a version published with --run-changed-activities runs anyway and says
// so in the job's history.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { moduleHash, pinsOf } from "../../runtime/activity-pins.js";
import { startTestDb, type TestDb } from "../activities/pg.js";
import { waitFor } from "../fault/harness.js";
import { BIN, runbook } from "./process.js";

let t: TestDb;
let env: Record<string, string>;
const project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-pins-"));
const lib = path.join(project, "lib", "stamp.ts");
const workers: ChildProcess[] = [];

const writeStamp = (v: string) => fs.writeFileSync(lib, `export const STAMP: string = ${JSON.stringify(v)};\n`);

beforeAll(async () => {
  t = await startTestDb();
  env = { DATABASE_URL: t.url, RUNBOOK_POLL_MS: "200", RUNBOOK_HEARTBEAT_MS: "500" };
  fs.mkdirSync(path.dirname(lib));
  writeStamp("v1");
  // The module itself never changes: only a local file it imports does.
  fs.writeFileSync(path.join(project, "acts.ts"), `import { STAMP } from "./lib/stamp.js";\nexport function stamp(): string {\n  return STAMP;\n}\n`);
  fs.writeFileSync(path.join(project, "pinned.runbook"), `use "./acts.ts" as acts\n\nrunbook pinned() -> string {\n  return acts.stamp()\n}\n`);
  fs.writeFileSync(
    path.join(project, "waiter.runbook"),
    `use "./acts.ts" as acts\n\nrunbook waiter() -> string {\n  let before = acts.stamp()\n  let go = wait "go"\n  return "\${before} \${go} \${acts.stamp()}"\n}\n`,
  );
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
  await t?.stop();
  fs.rmSync(project, { recursive: true, force: true });
});

const cli = (args: string[]) => runbook(args, { cwd: project, env });

async function startWorker(name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, "worker", "--name", name], { cwd: project, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  workers.push(child);
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  await waitFor(`worker ${name} to start`, async () => stderr.includes(`worker ${name} started`) || (child.exitCode !== null && Promise.reject(new Error(stderr))));
  return child;
}

async function stopWorker(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

async function job(id: string): Promise<{ status: string; result: unknown; history: { to_status: string; reason: string }[] }> {
  const { rows } = await t.query("SELECT status, result FROM jobs WHERE id = $1", [id]);
  const history = await t.query("SELECT to_status, reason FROM job_history WHERE job_id = $1 ORDER BY id", [id]);
  return { status: String(rows[0].status), result: rows[0].result, history: history.rows as never };
}

async function start(name = "pinned"): Promise<string> {
  const started = await cli(["start", name]);
  expect(started.code, started.stderr).toBe(0);
  return started.stdout.trim();
}

describe("publishing", () => {
  it("records a hash of each activity module, covering the local files it imports", async () => {
    const published = await cli(["publish", "."]);
    expect(published).toMatchObject({ code: 0, stdout: expect.stringMatching(/^pinned: published [0-9a-f]{12}\nwaiter: published [0-9a-f]{12}\n$/) });
    const { rows } = await t.query("SELECT activities, activity_drift FROM versions ORDER BY runbook", []);
    const h = await moduleHash(path.join(project, "acts.ts"));
    expect(typeof h === "string" ? h : h.files.map((f) => path.relative(project, f.file)).sort()).toEqual(["acts.ts", path.join("lib", "stamp.ts")]);
    expect(rows).toEqual([
      { activities: { "acts.ts": (h as { hash: string }).hash }, activity_drift: "refuse" },
      { activities: { "acts.ts": (h as { hash: string }).hash }, activity_drift: "refuse" },
    ]);

    // Republishing changed activity code (with the same runbook code) makes a new version.
    writeStamp("v1 changed");
    expect((await cli(["publish", "."])).stdout).toMatch(/^pinned: new version /m);
    writeStamp("v1");
    expect((await cli(["publish", "."])).stdout).toMatch(/^pinned: new version /m);
    expect((await cli(["publish", "."])).stdout).toMatch(/^pinned: unchanged /m);
  });

  it("leaves packages and Node's modules out of the hash (they are the lockfile's)", async () => {
    const file = path.join(project, "with-packages.ts");
    fs.writeFileSync(file, `import pg from "pg";\nimport * as fs from "node:fs";\nexport const f = () => [typeof pg, typeof fs.readFileSync];\n`);
    const h = await moduleHash(file);
    expect(typeof h === "string" ? h : h.files.map((f) => f.file)).toEqual([file]);
    fs.rmSync(file);
  });

  it("refuses a module that cannot be found, in one line", async () => {
    await expect(pinsOf([{ file: "x.runbook", uses: { a: "./nowhere.ts" } }], project)).rejects.toThrow(/^activity module nowhere\.ts: missing$/);
  });
});

describe("a worker whose activity code differs from the version's", () => {
  it("leaves the job queued, says why in `runbook job`, and runs it once its files match", async () => {
    writeStamp("v2 on this worker's disk");
    const w = await startWorker("pin-w1");
    const id = await start();
    await waitFor("the refusal", async () => (await job(id)).history.some((h) => h.reason.includes("differs")), 30_000);
    const refused = await job(id);
    expect(refused.status).toBe("queued");
    expect(refused.history.at(-1)).toEqual({
      to_status: "queued",
      reason: expect.stringMatching(/^activity module acts\.ts differs from the version's \(published [0-9a-f]{12}, here [0-9a-f]{12}\): waiting for a worker whose module matches$/),
    });
    const shown = await cli(["job", id]);
    expect(shown.stdout).toMatch(/^status: +queued/m);
    expect(shown.stdout).toContain("activity module acts.ts differs from the version's");
    // The worker claims it no more while its file differs: one refusal, not one per poll.
    const before = (await job(id)).history.length;
    await cli(["jobs"]); // a few polls' time, measured by a process run, not a sleep
    const after = await job(id);
    expect(after.status).toBe("queued");
    expect(after.history.length).toBe(before);

    writeStamp("v1");
    await waitFor("the job to complete", async () => (await job(id)).status === "completed", 30_000);
    expect((await job(id)).result).toBe("v1");
    await stopWorker(w);
  });

  it("keeps a refused job's wait: woken by its signal, it goes back to the queue with the signal unread, and receives it once its files match", async () => {
    writeStamp("v1");
    const w = await startWorker("pin-w3");
    const id = await start("waiter");
    await waitFor("the job to wait", async () => (await job(id)).status === "waiting", 30_000);
    writeStamp("v2 on this worker's disk");
    expect(await cli(["signal", id, "go", '"go!"'])).toMatchObject({ code: 0 });
    await waitFor("the refusal", async () => (await job(id)).history.some((h) => h.reason.includes("differs")), 30_000);
    const { rows } = await t.query("SELECT j.status, j.wait_signal, s.consumed_at FROM jobs j JOIN signals s ON s.job_id = j.id WHERE j.id = $1", [id]);
    expect(rows).toEqual([{ status: "queued", wait_signal: "go", consumed_at: null }]);
    writeStamp("v1");
    await waitFor("the job to complete", async () => (await job(id)).status === "completed", 30_000);
    expect((await job(id)).result).toBe("v1 go! v1");
    await stopWorker(w);
  });

  it("runs the job anyway when published with --run-changed-activities, and writes that in its history", async () => {
    writeStamp("v1");
    const published = await cli(["publish", ".", "--run-changed-activities"]);
    expect(published.stdout).toMatch(/^pinned: new version /m);
    const { rows } = await t.query("SELECT v.activity_drift FROM runbooks r JOIN versions v ON v.hash = r.version", []);
    expect(rows).toEqual([{ activity_drift: "run" }, { activity_drift: "run" }]);

    writeStamp("v3");
    const w = await startWorker("pin-w2");
    const id = await start();
    await waitFor("the job to complete", async () => (await job(id)).status === "completed", 30_000);
    const done = await job(id);
    expect(done.result).toBe("v3");
    // Its first claim and its completion are in the job row, not in job_history (migration 0008).
    expect(done.history.map((h) => h.to_status)).toEqual(["queued", "running"]);
    expect(done.history[1].reason).toMatch(
      /^activity module acts\.ts differs from the version's \(published [0-9a-f]{12}, here [0-9a-f]{12}\): running it anyway \(published with --run-changed-activities\)$/,
    );
    expect((await cli(["job", id])).stdout).toContain("running it anyway (published with --run-changed-activities)");
    await stopWorker(w);
  });
});
