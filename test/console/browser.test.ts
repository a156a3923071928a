// The web console in a real browser: Debian's chromium driven by playwright-core (no browser
// download), against `runbook serve`'s app on a real port, a fresh database and two in-process
// workers. A person signs in with a pasted token, starts a job from the form generated from the
// runbook's parameters, watches its output arrive, sends it the signal it waits for, and sees
// it complete; then the other pages show what they should.
//
// Without chromium (CHROMIUM, default /usr/bin/chromium) the test is skipped with a message
// saying so; `.ci/run` installs Debian's chromium. RUNBOOK_CONSOLE_SCREENSHOTS=DIR also saves a
// PNG of each page into DIR (how docs/console-*.png are made).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileBundles } from "../../cli/bundles.js";
import type { Db } from "../../runtime/db/connect.js";
import { Operator } from "../../runtime/operator/index.js";
import { serve, type Served } from "../../runtime/server/serve.js";
import { jobHistory } from "../../runtime/sql/inspect.js";
import { Worker } from "../../runtime/worker.js";
import { freshDb } from "../setup/db.js";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
const SHOTS = process.env.RUNBOOK_CONSOLE_SCREENSHOTS;
/** The flags every run of chromium gets (a fresh --user-data-dir is added per run). */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Deadlines for conditions on a busy shared machine, never expectations of speed. */
const WAIT = { timeout: 90_000 };

const GREET = `# Greets someone, then waits for an operator's approval (a signal) before it finishes.
runbook greet(name: string, times: number = 2, tags: list<string> = [], note: string? = null) -> string {
  for i in 1..times {
    output "hello \${name} (\${i} of \${times})"
  }
  checkpoint "greeted"
  let answer = wait "approve"
  output "approved by \${answer.by}"
  return "greeted \${name} \${times} times"
}
`;

if (!HAVE_CHROMIUM) {
  // Said once, plainly, in the test output: the suite passes without a browser, but says so.
  process.stderr.write(`test/console/browser.test.ts: SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM=/path/to/chromium)\n`);
}

describe.skipIf(!HAVE_CHROMIUM)("the web console in chromium", () => {
  let db: Db;
  let workers: Worker[] = [];
  let server: Served;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let token: string;
  let viewerToken: string;
  let adminToken: string;

  beforeAll(async () => {
    db = await freshDb();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-console-"));
    fs.writeFileSync(path.join(dir, "greet.runbook"), GREET);
    const op = new Operator(db, "test");
    await op.publish((await compileBundles([dir])).bundles);
    fs.rmSync(dir, { recursive: true, force: true });
    const fast = { heartbeatMs: 300, timeoutMs: 10_000, pollMs: 200 };
    workers = [await Worker.start(db, { name: "console-a", concurrency: 2, ...fast }), await Worker.start(db, { name: "console-b", concurrency: 2, ...fast })];
    token = (await op.createToken("alice", "operator")).token;
    viewerToken = (await op.createToken("victor", "viewer")).token;
    adminToken = (await op.createToken("ada", "admin")).token;
    server = await serve(op, { host: "127.0.0.1", port: 0, followPollMs: 100, log: (line) => process.stderr.write(`${line}\n`) });
    base = server.url;
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 860 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(WAIT.timeout);
    // The page's own errors go to the test's output: a failing step then says why.
    page.on("pageerror", (e) => process.stderr.write(`console page error: ${e.message}\n`));
    page.on("console", (m) => m.type() === "error" && process.stderr.write(`console page: ${m.text()}\n`));
    // The person says yes to every confirm() and takes prompt()'s suggestion.
    page.on("dialog", (d) => void d.accept(d.type() === "prompt" ? d.defaultValue() : undefined));
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await Promise.all(workers.map((w) => w.stop({ graceMs: 2_000 })));
    await db?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  async function shot(name: string): Promise<void> {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
  }

  it("signs in with a pasted token, refusing a wrong one", async () => {
    await page.goto(`${base}/`);
    await page.locator("#token").waitFor(WAIT);
    await shot("sign-in");
    await page.fill("#token", "rbk_not-a-real-token");
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator("form .error").textContent(), WAIT).toContain("not valid");
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await page.locator("#who", { hasText: "alice (operator)" }).waitFor(WAIT);
    await page.locator("#view h1", { hasText: "Jobs" }).waitFor(WAIT);
    await page.getByText("No jobs.").waitFor(WAIT);
    // The session is a cookie the page's scripts cannot read.
    const cookies = await context.cookies(base);
    expect(cookies).toEqual([expect.objectContaining({ name: "runbook_session", httpOnly: true, sameSite: "Strict" })]);
    expect(await page.evaluate(() => document.cookie)).toBe("");
  });

  let jobId = "";

  it("starts a job from the form generated from the runbook's parameters", async () => {
    await page.click("nav >> text=Runbooks");
    await page.locator("tr[data-runbook=greet]").waitFor(WAIT);
    await page.click("tr[data-runbook=greet] a");
    // One field per parameter, by its type; the source of the current version beside them.
    await page.locator("#start-form").waitFor(WAIT);
    expect(await page.getAttribute("#param-times", "type")).toBe("number");
    expect(await page.getAttribute("#param-name", "required")).toBe("");
    await page.locator("pre.source[data-runbook=greet]", { hasText: 'let answer = wait "approve"' }).waitFor(WAIT);
    // A value the server refuses comes back as its one-line error, and no job is made.
    expect(await page.evaluate(() => document.getElementById("param-tags")?.tagName)).toBe("TEXTAREA");
    await page.fill("#param-name", "console");
    await page.fill("#param-times", "3");
    await page.fill("#param-tags", "[1, 2]");
    await page.click("#start-job");
    await page.locator("#start-error", { hasText: "tags" }).waitFor(WAIT);
    expect((await new Operator(db, "test").jobs()).jobs).toEqual([]);
    await page.fill("#param-tags", '["blue", "green"]');
    await shot("runbook");
    await page.click("#start-job");
    await page.waitForURL(/#\/jobs\/.+/, WAIT);
    jobId = decodeURIComponent(new URL(page.url()).hash.slice("#/jobs/".length));
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("shows the output arriving, the signal it waits for, and sends it", async () => {
    const output = page.locator("#job-output");
    await output.locator(".record", { hasText: "hello console (3 of 3)" }).waitFor(WAIT);
    expect(await output.locator(".record").allTextContents()).toEqual(["output hello console (1 of 3)", "output hello console (2 of 3)", "output hello console (3 of 3)"]);
    await page.locator('[data-field="status"] .badge[data-status=waiting]').waitFor(WAIT);
    await page.locator('[data-field="waiting for"]', { hasText: "approve" }).waitFor(WAIT);
    // The locals of the latest checkpoint: the parameters and the loop's work.
    await page.locator("#job-locals", { hasText: "console" }).waitFor(WAIT);
    // The signal name is filled in from what the job waits for.
    expect(await page.inputValue("#signal-name")).toBe("approve");
    await shot("job-waiting");
    await page.fill("#signal-payload", '{"by": "alice in the console"}');
    await page.click("#send-signal");
    await output.locator(".record", { hasText: "approved by alice in the console" }).waitFor(WAIT);
    await page.locator('[data-field="status"] .badge[data-status=completed]').waitFor(WAIT);
    await page.locator("#job-result", { hasText: '"greeted console 3 times"' }).waitFor(WAIT);
    await page.locator("#output-state", { hasText: "ended" }).waitFor(WAIT);
    // The timeline is the job's history, which names the token that started and signalled it.
    await page.locator('#job-timeline li[data-to=completed]').waitFor(WAIT);
    await shot("job");
    const reasons = (await jobHistory(db.pool, jobId)).map((x) => x.reason).join("\n");
    expect(reasons).toContain("alice");
    // Every record shown once, in order, however the stream and the refreshes interleaved.
    expect(await output.locator(".record").allTextContents()).toEqual([
      "output hello console (1 of 3)",
      "output hello console (2 of 3)",
      "output hello console (3 of 3)",
      "output approved by alice in the console",
    ]);
  });

  it("suspends, resumes and stops a job with the buttons", async () => {
    await page.goto(`${base}/console/#/runbooks/greet`);
    await page.fill("#param-name", "second");
    await page.click("#start-job");
    await page.waitForURL(/#\/jobs\/.+/, WAIT);
    const id = decodeURIComponent(new URL(page.url()).hash.slice("#/jobs/".length));
    expect(id).not.toBe(jobId);
    const status = (s: string) => page.locator(`[data-field="status"] .badge[data-status=${s}]`).waitFor(WAIT);
    await status("waiting");
    await page.click("#job-suspend");
    await status("suspended");
    await page.click("#job-resume");
    await status("waiting");
    await page.click("#job-stop");
    await status("stopped");
    await page.locator("#output-state", { hasText: "ended" }).waitFor(WAIT);
    expect(await page.locator("#job-actions button").count()).toBe(0);
    const reasons = (await jobHistory(db.pool, id)).map((x) => x.reason);
    for (const verb of ["suspend", "resume", "stop"]) expect(reasons.some((r) => r.includes(verb) && r.includes("alice")), `${verb} in ${reasons.join(" | ")}`).toBe(true);
  });

  it("lists the job with a relative time and a human duration", async () => {
    await page.click("nav >> text=Jobs");
    const row = page.locator(`tr[data-job="${jobId}"]`);
    await row.waitFor(WAIT);
    await row.locator(".badge[data-status=completed]").waitFor(WAIT);
    const text = (await row.textContent()) ?? "";
    expect(text).toMatch(/(just now|\d+[smh] ago)/);
    expect(text).toMatch(/\d+(ms|s)\b/);
    await page.selectOption("#filter-status", "failed");
    await page.getByText("No jobs.").waitFor(WAIT);
    await page.selectOption("#filter-status", "completed");
    await row.waitFor(WAIT);
    await page.selectOption("#filter-status", "");
    await shot("jobs");
  });

  it("draws the workers and their 256 slots by owner", async () => {
    await page.click("nav >> text=Workers");
    await page.locator("tr[data-worker=console-a]").waitFor(WAIT);
    await page.locator("tr[data-worker=console-b]").waitFor(WAIT);
    await expect.poll(() => page.locator(".slots .slot").count(), WAIT).toBe(db.slotCount);
    const owners = await page.locator(".slots .slot").evaluateAll((cells) => cells.map((c) => c.getAttribute("data-owner")));
    expect(new Set(owners)).toEqual(new Set(["console-a", "console-b"]));
    // An operator is no admin: no drain buttons, no deploy form.
    expect(await page.locator("[data-drain]").count()).toBe(0);
    expect(await page.locator("#deploy-workers").count()).toBe(0);
    await shot("workers");
  });

  it("shows the schedules page", async () => {
    await page.click("nav >> text=Schedules");
    await page.locator("#view h1", { hasText: "Schedules" }).waitFor(WAIT);
    await page.locator("#schedules").waitFor(WAIT);
    await shot("schedules");
  });

  it("gives a viewer no buttons to act, and signs out", async () => {
    await page.click("#who button");
    await page.locator("#token").waitFor(WAIT);
    await page.fill("#token", viewerToken);
    await page.click("button[type=submit]");
    await page.locator("#who", { hasText: "victor (viewer)" }).waitFor(WAIT);
    await page.goto(`${base}/console/#/jobs/${encodeURIComponent(jobId)}`);
    await page.locator('[data-field="status"] .badge[data-status=completed]').waitFor(WAIT);
    await page.locator("#job-actions", { hasText: "can look but not act" }).waitFor(WAIT);
    await page.goto(`${base}/console/#/runbooks/greet`);
    await page.getByText("A viewer token cannot start jobs.").waitFor(WAIT);
    expect(await page.locator("#start-form").count()).toBe(0);
  });

  it("lets an admin deploy and drain from the workers page", async () => {
    await page.click("#who button");
    await page.fill("#token", adminToken);
    await page.click("button[type=submit]");
    await page.locator("#who", { hasText: "ada (admin)" }).waitFor(WAIT);
    await page.goto(`${base}/console/#/workers`);
    await expect.poll(() => page.inputValue("#deploy-workers"), WAIT).toBe("console-a, console-b");
    await page.fill("#deploy-workers", "console-a");
    await page.click("#deployment + form button[type=submit], form:has(#deploy-workers) button[type=submit]");
    await page.locator(".notice", { hasText: "deployed: console-a" }).waitFor(WAIT);
    // Every slot moves to console-a (console-b is alive, but no longer deployed).
    await expect.poll(() => page.locator('.slots .slot[data-owner="console-a"]').count(), WAIT).toBe(db.slotCount);
    await page.locator("tr[data-worker=console-b]", { hasText: "not deployed" }).waitFor(WAIT);
    await page.click("[data-drain=console-b]");
    await page.locator(".notice", { hasText: "console-b is draining" }).waitFor(WAIT);
    await page.locator("tr[data-worker=console-b] .badge:is([data-status=draining], [data-status=stopped])").waitFor(WAIT);
    await shot("workers-admin");
  });
});
