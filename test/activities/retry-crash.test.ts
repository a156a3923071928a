// `retry` around an activity survives a worker crash: the worker is killed (SIGKILL) while the
// job sleeps between attempts; another worker takes the job over and goes on with the same
// attempt count and backoff, so the activity runs exactly `attempts` times in all, each delay
// honored, and the activity's ctx.attempt continuing (1 on w1, then 2 and 3 on w2). Real CLI
// processes on a real PostgreSQL.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runbook } from "../runtime/process.js";
import { startTestDb, type TestDb } from "./pg.js";

let t: TestDb;
const project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-retry-"));
const callsLog = path.join(project, "calls.log");
const workers: ChildProcess[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  t = await startTestDb();
  env = { DATABASE_URL: t.url, FLAKY_LOG: callsLog, RUNBOOK_HEARTBEAT_MS: "200", RUNBOOK_TIMEOUT_MS: "1000" };
  fs.writeFileSync(
    path.join(project, "flaky.ts"),
    `import * as fs from "node:fs";
/** Always fails; records each call's time and ctx.attempt, so the test sees attempts and delays. */
export function call(_args: {}, ctx: { attempt: number; worker?: string }): void {
  fs.appendFileSync(process.env.FLAKY_LOG!, \`\${Date.now()} \${ctx.attempt} \${ctx.worker}\\n\`);
  const n = fs.readFileSync(process.env.FLAKY_LOG!, "utf8").trim().split("\\n").length;
  throw new Error(\`still broken (call \${n})\`);
}
`,
  );
  fs.writeFileSync(
    path.join(project, "flaky.runbook"),
    `use "./flaky.ts" as f

runbook flaky() {
  retry (attempts: 3, delay: 1500ms, backoff: 2) {
    f.call()
  }
}
`,
  );
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  await t?.stop();
  fs.rmSync(project, { recursive: true, force: true });
});

function startWorker(name: string): ChildProcess {
  const w = spawn(process.execPath, [BIN, "worker", "--name", name], { cwd: project, env: { ...process.env, ...env }, stdio: "ignore" });
  workers.push(w);
  return w;
}

/** Each call's time and the ctx.attempt it saw. */
function log(): { at: number; attempt: number; worker: string }[] {
  if (!fs.existsSync(callsLog)) return [];
  return fs.readFileSync(callsLog, "utf8").trim().split("\n").filter(Boolean).map((line) => {
    const [at, attempt, worker] = line.split(" ");
    return { at: Number(at), attempt: Number(attempt), worker };
  });
}

function calls(): number[] {
  return log().map((c) => c.at);
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("retry across a worker crash", () => {
  it("keeps the attempt count and the backoff", async () => {
    const published = await runbook(["publish", "."], { cwd: project, env });
    expect(published.code, published.stderr).toBe(0);
    const started = await runbook(["start", "flaky", "--id", "flaky-1"], { cwd: project, env });
    expect(started.code, started.stderr).toBe(0);

    const first = startWorker("w1");
    await until("the first attempt", () => (calls().length === 1 ? true : undefined)).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${(await runbook(["job", "flaky-1"], { cwd: project, env })).stdout}`);
    });
    // The job now sleeps 1.5 s before attempt 2, in the database: once that sleep is committed
    // (killed before it, the job would redo attempt 1 from its previous checkpoint), kill its
    // worker outright.
    await until("the job to sleep before attempt 2", async () => {
      const { rows } = await t.db.pool.query<{ status: string }>("SELECT status FROM jobs WHERE id = 'flaky-1'");
      return rows[0]?.status === "sleeping" ? true : undefined;
    });
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    startWorker("w2");

    const job = await until("the job to fail", async () => {
      const shown = await runbook(["job", "flaky-1", "--json"], { cwd: project, env });
      const j = JSON.parse(shown.stdout).job;
      return j.status === "failed" ? j : undefined;
    });
    const times = calls();
    expect(times.length).toBe(3); // attempts 1 (w1), 2 and 3 (w2): the count survived the crash
    expect(log().map((c) => c.attempt)).toEqual([1, 2, 3]); // and the activity saw it in ctx.attempt
    // Attempt 1 on w1, the others on w2 (w1 died in the 1.5 s sleep: this checks that it did).
    expect(log().map((c) => c.worker)).toEqual(["w1", "w2", "w2"]);
    expect(job.error.message).toBe("still broken (call 3)");
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1500); // delay before attempt 2
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(3000); // 1.5 s * 2: attempt 3's backoff
    const history = await runbook(["job", "flaky-1"], { cwd: project, env });
    expect(history.stdout).toMatch(/running on w1/);
    expect(history.stdout).toMatch(/running on w2/);
  });
});
