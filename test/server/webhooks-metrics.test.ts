// Webhooks start jobs that a real worker runs; /metrics is scraped and parsed; output followed
// as server-sent events arrives record by record as the job commits it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Worker } from "../../runtime/worker.js";
import { call, startFixture, waitFor, type Fixture } from "./support.js";

let f: Fixture;
let base: string;
let worker: Worker;

beforeAll(async () => {
  f = await startFixture();
  base = f.server.url;
  worker = await Worker.start(f.db, { name: "w-hooks", concurrency: 4, heartbeatMs: 200, timeoutMs: 3_000, pollMs: 100 });
});

afterAll(async () => {
  await worker?.stop();
  await f?.close();
});

async function post(url: string, body: unknown, contentType = "application/json"): Promise<{ status: number; body: any }> {
  const r = await fetch(base + url, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

describe("webhooks", () => {
  it("starts the runbook with the body's fields over the fixed ones; a worker runs it; the history names the webhook", async () => {
    const made = await call(base, "POST", "/api/webhooks", f.tokens.admin, { name: "ship", runbook: "deploy", params: ["region=us", "dry=true"], expires: "30d" });
    expect(made.status).toBe(201);
    expect(made.body.path).toMatch(/^\/hooks\/rbw_[A-Za-z0-9_-]{43}$/);
    const stored = (await f.db.pool.query("SELECT * FROM webhooks WHERE name = 'ship'")).rows[0];
    expect(JSON.stringify(stored)).not.toContain(made.body.secret.slice(4));
    expect(stored.expires_at.getTime() - stored.created_at.getTime()).toBe(30 * 86_400_000);

    const started = await post(made.body.path, { service: "billing", dry: false });
    expect(started.status).toBe(201);
    const id: string = started.body.id;
    const done = await waitFor("the webhook's job to complete", async () => {
      const r = await call(base, "GET", `/api/jobs/${id}`, f.tokens.viewer);
      return r.body.job.status === "completed" && r.body;
    });
    expect(done.job.params).toEqual({ region: "us", dry: false, service: "billing" });
    expect(done.job.result).toBe("billing@us");
    expect(done.history[0].reason).toBe("started by webhook ship");
    const out = await call(base, "GET", `/api/jobs/${id}/output`, f.tokens.viewer);
    expect(out.body.records.map((r: { value: string }) => r.value)).toEqual(["deploying billing to us (dry: false)"]);

    // Bad calls: parameters checked like any start; not JSON; a wrong secret.
    expect(await post(made.body.path, { service: 7 })).toEqual({ status: 400, body: { error: "parameter service (string): expected string, got number 7" } });
    expect(await post(made.body.path, { colour: "red", service: "x" })).toMatchObject({ status: 400, body: { error: "unknown parameter colour for runbook deploy (it takes service, region, dry)" } });
    expect((await post(made.body.path, "[1]")).body).toEqual({ error: "the body must be a JSON object" });
    expect((await post(made.body.path, "{")).body).toEqual({ error: "the body is not JSON" });
    expect(await post("/hooks/rbw_wrong", {})).toEqual({ status: 404, body: { error: "no such webhook (revoked, or the URL is wrong)" } });
    // An empty body: only the fixed parameters (here service is missing).
    const empty = await fetch(base + made.body.path, { method: "POST" });
    expect(await empty.json()).toEqual({ error: 'missing parameter service (string): give "service"' });

    const listed = await call(base, "GET", "/api/webhooks", f.tokens.admin);
    expect(listed.body).toEqual([expect.objectContaining({ name: "ship", runbook: "deploy", params: { region: "us", dry: true } })]);
    expect(JSON.stringify(listed.body)).not.toMatch(/rbw_|hash/);
    expect((await call(base, "DELETE", "/api/webhooks/ship", f.tokens.admin)).body).toEqual({ revoked: "ship" });
    expect((await post(made.body.path, { service: "x" })).status).toBe(404);
  });

  it("refuses an expired webhook and a bad fixed parameter at creation", async () => {
    const bad = await call(base, "POST", "/api/webhooks", f.tokens.admin, { name: "bad", runbook: "deploy", params: ["dry=maybe"] });
    expect(bad).toMatchObject({ status: 400, body: { error: 'parameter dry (bool): "maybe" is not true or false' } });
    const made = await f.op.createWebhook({ name: "old", runbook: "deploy", flags: [], expiresInMs: 60_000 });
    await f.db.pool.query("UPDATE webhooks SET created_at = now() - interval '2 minutes', expires_at = now() - interval '1 minute' WHERE name = 'old'");
    expect(await post(`/hooks/${made.secret}`, { service: "x" })).toEqual({ status: 404, body: { error: "webhook old has expired" } });
  });
});

/** Prometheus text format: `name{label="v",...} value` lines, with # HELP/# TYPE. */
function parseMetrics(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    const value = m[3] === "+Inf" ? Infinity : Number(m[3]);
    if (Number.isNaN(value)) throw new Error(`not a number: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

describe("GET /metrics", () => {
  it("serves jobs by status and runbook, claims, checkpoints and their latency, live workers", async () => {
    for (let i = 0; i < 3; i++) await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "deploy", params: { service: `m${i}` }, id: `metrics-${i}` });
    await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "greet", params: { name: "m" }, id: "metrics-wait" });
    await waitFor("the jobs to finish or wait", async () => {
      const done = (await call(base, "GET", "/api/jobs?status=completed&runbook=deploy", f.tokens.viewer)).body.jobs.length;
      const waiting = (await call(base, "GET", "/api/jobs/metrics-wait", f.tokens.viewer)).body.job.status === "waiting";
      return done >= 4 && waiting;
    });
    // Checkpoint latencies arrive with the worker process's next flush (every 5 s); claims with
    // history lines ten seconds old (runtime/sql/metrics.ts).
    const m = await waitFor("the claims and checkpoint latencies to show", async () => {
      const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${f.tokens.viewer}` } });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0.0.4/);
      const parsed = parseMetrics(await r.text());
      const one = (name: string) => parsed.samples.find((s) => s.name === name)?.value ?? 0;
      return one("runbook_claims_total") >= 5 && one("runbook_checkpoint_duration_seconds_count") >= 1 && parsed;
    });
    const value = (name: string, labels: Record<string, string> = {}) =>
      m.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
    expect(m.types.get("runbook_jobs")).toBe("gauge");
    expect(m.types.get("runbook_claims_total")).toBe("counter");
    expect(m.types.get("runbook_checkpoint_duration_seconds")).toBe("histogram");
    const completedDeploys = (await f.db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE runbook = 'deploy' AND status = 'completed'")).rows[0].n;
    expect(value("runbook_jobs", { runbook: "deploy", status: "completed" })).toBe(completedDeploys);
    expect(value("runbook_jobs", { runbook: "greet", status: "waiting" })).toBeGreaterThanOrEqual(1);
    expect(value("runbook_checkpoints_total", { runbook: "greet" })).toBeGreaterThanOrEqual(1);
    expect(value("runbook_workers_live")).toBe(1);
    expect(value("runbook_lease_takeovers_total")).toBe(0);
    expect(value("runbook_handovers_total")).toBe(0);
    // Buckets are cumulative and end at +Inf with the count.
    const buckets = m.samples.filter((s) => s.name === "runbook_checkpoint_duration_seconds_bucket");
    expect(buckets.at(-1)!.labels.le).toBe("+Inf");
    expect(buckets.at(-1)!.value).toBe(value("runbook_checkpoint_duration_seconds_count"));
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(value("runbook_checkpoint_duration_seconds_sum")).toBeGreaterThan(0);
  });
});

describe("GET /metrics: schedule ticks", () => {
  it("counts each decided tick once, by outcome, a queued one when it is decided", async () => {
    const scrape = async () => {
      const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${f.tokens.viewer}` } });
      const parsed = parseMetrics(await r.text());
      expect(parsed.types.get("runbook_schedule_ticks_total")).toBe("counter");
      const by = (outcome: string) => parsed.samples.find((s) => s.name === "runbook_schedule_ticks_total" && s.labels.outcome === outcome)?.value ?? 0;
      return { fired: by("fired"), triggered: by("triggered"), skipped: by("skipped"), missed: by("missed") };
    };
    const before = await scrape();
    // Paused, so no worker fires it; the records are older than the ten seconds a tally waits.
    await f.db.pool.query("INSERT INTO schedules (name, runbook, cron, paused, source) VALUES ('metrics-nightly', 'greet', '0 3 * * *', true, 'cli')");
    await f.db.pool.query(
      `INSERT INTO schedule_ticks (schedule, tick, outcome, job_id, last_tick, missed, at) VALUES
         ('metrics-nightly', '2026-01-01T03:00Z', 'fired', 'metrics-nightly@1', NULL, NULL, now() - interval '60 seconds'),
         ('metrics-nightly', '2026-01-02T03:00Z', 'triggered', 'metrics-nightly@2', NULL, NULL, now() - interval '60 seconds'),
         ('metrics-nightly', '2026-01-03T03:00Z', 'skipped', NULL, NULL, NULL, now() - interval '60 seconds'),
         ('metrics-nightly', '2026-01-04T03:00Z', 'missed', NULL, '2026-01-08T03:00Z', 5, now() - interval '60 seconds'),
         ('metrics-nightly', '2026-01-09T03:00Z', 'queued', NULL, NULL, NULL, now() - interval '60 seconds')`,
    );
    const once = await scrape();
    expect(once).toEqual({ fired: before.fired + 1, triggered: before.triggered + 1, skipped: before.skipped + 1, missed: before.missed + 5 });
    expect(await scrape()).toEqual(once);
    // The queued tick fires: counted then, once.
    await f.db.pool.query("UPDATE schedule_ticks SET outcome = 'fired', job_id = 'metrics-nightly@9', at = now() - interval '30 seconds' WHERE schedule = 'metrics-nightly' AND outcome = 'queued'");
    expect(await scrape()).toEqual({ ...once, fired: once.fired + 1 });
    expect(await scrape()).toEqual({ ...once, fired: once.fired + 1 });
  });
});

describe("GET /api/jobs/:id/output?follow=1", () => {
  it("streams records as server-sent events as they are committed, then the end", async () => {
    await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "greet", params: { name: "sse", times: 2 }, id: "sse-1" });
    const r = await fetch(`${base}/api/jobs/sse-1/output?follow=1`, { headers: { authorization: `Bearer ${f.tokens.viewer}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    const events: { event: string; id?: string; data: any }[] = [];
    /** Reads until an event satisfies `want`. */
    const until = async (want: (e: { event: string; data: any }) => boolean) => {
      for (;;) {
        const found = events.find(want);
        if (found) return found;
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended; events: ${JSON.stringify(events)}`);
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const e: { event: string; id?: string; data: any } = { event: "message", data: null };
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) e.event = line.slice(7);
            else if (line.startsWith("id: ")) e.id = line.slice(4);
            else if (line.startsWith("data: ")) e.data = JSON.parse(line.slice(6));
          }
          if (block.startsWith(":")) continue;
          events.push(e);
        }
      }
    };
    // The job waits for its signal after two records: they arrive, and so does the status.
    await until((e) => e.event === "status" && e.data.status === "waiting");
    expect(events.filter((e) => e.event === "record").map((e) => [e.id, e.data.value])).toEqual([
      ["1", "hello sse 1"],
      ["2", "hello sse 2"],
    ]);
    // Only now is the third record made: it arrives on the open stream.
    await call(base, "POST", "/api/jobs/sse-1/signal", f.tokens.operator, { name: "approve", payload: "ok" });
    const third = await until((e) => e.event === "record" && e.data.seq === 3);
    expect(third.data).toMatchObject({ stream: "output", value: "approved: ok for sse" });
    const end = await until((e) => e.event === "end");
    expect(end.data).toMatchObject({ id: "sse-1", status: "completed", result: 2 });
    expect(end.data.state).toBeUndefined();
    expect((await reader.read()).done).toBe(true);
    // Records in order, each once.
    expect(events.filter((e) => e.event === "record").map((e) => e.data.seq)).toEqual([1, 2, 3]);

    // A follower joining after the end gets the whole output and the end; one resuming with
    // Last-Event-ID gets only what follows.
    const late = await (await fetch(`${base}/api/jobs/sse-1/output?follow=1`, { headers: { authorization: `Bearer ${f.tokens.viewer}` } })).text();
    expect(late.match(/^event: record$/gm)).toHaveLength(3);
    expect(late).toMatch(/event: end\n/);
    const resumed = await (await fetch(`${base}/api/jobs/sse-1/output?follow=1`, { headers: { authorization: `Bearer ${f.tokens.viewer}`, "last-event-id": "2" } })).text();
    expect(resumed.match(/^id: \d+$/gm)).toEqual(["id: 3"]);
    expect((await call(base, "GET", "/api/jobs/nope/output?follow=1", f.tokens.viewer)).status).toBe(404);
    await waitFor("the job's feed to stop polling", async () => f.server.feeds.active === 0);
  });

  it("fans one poller out to many followers, each getting every record once, in order", async () => {
    await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "greet", params: { name: "fan", times: 3 }, id: "fan-1" });
    const texts = Promise.all(
      Array.from({ length: 20 }, () => fetch(`${base}/api/jobs/fan-1/output?follow=1`, { headers: { authorization: `Bearer ${f.tokens.viewer}` } }).then((r) => r.text())),
    );
    await waitFor("fan-1 to wait", async () => (await call(base, "GET", "/api/jobs/fan-1", f.tokens.viewer)).body.job.status === "waiting");
    await waitFor("the followers to share one feed", async () => f.server.feeds.active === 1);
    await call(base, "POST", "/api/jobs/fan-1/signal", f.tokens.operator, { name: "approve", payload: true });
    for (const text of await texts) expect(text.match(/^id: \d+$/gm)).toEqual(["id: 1", "id: 2", "id: 3", "id: 4"]);
  });
});
