// The HTTP API of `runbook serve` on a real database with a real worker: every endpoint under
// every role (401 without or with a bad token, 403 below the role), the job endpoints end to
// end (params checked as the CLI checks them, cursor paging, detail with history, children and
// locals, signal, suspend/resume/stop, each named in the history by its token), the fleet,
// sessions with CSRF protection, and errors as JSON {error}.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Worker } from "../../runtime/worker.js";
import { call, startFixture, waitFor, type Fixture } from "./support.js";

let f: Fixture;
let base: string;
let worker: Worker;

beforeAll(async () => {
  f = await startFixture();
  base = f.server.url;
  worker = await Worker.start(f.db, { name: "w-api", concurrency: 4, heartbeatMs: 200, timeoutMs: 3_000, pollMs: 100 });
});

afterAll(async () => {
  await worker?.stop();
  await f?.close();
});

type Role = "viewer" | "operator" | "admin";

// Each endpoint with the least role it needs, and a request that changes nothing when allowed.
const ENDPOINTS: [string, string, Role, unknown?][] = [
  ["GET", "/api/jobs", "viewer"],
  ["GET", "/api/jobs/nope", "viewer"],
  ["GET", "/api/jobs/nope/output", "viewer"],
  ["GET", "/api/workers", "viewer"],
  ["GET", "/api/deployment", "viewer"],
  ["GET", "/api/runbooks", "viewer"],
  ["GET", "/api/schedules", "viewer"],
  ["GET", "/api/session", "viewer"],
  ["GET", "/metrics", "viewer"],
  ["POST", "/api/jobs", "operator", { runbook: "no-such-runbook", params: {} }],
  ["POST", "/api/jobs/nope/signal", "operator", { name: "approve", payload: 1 }],
  ["POST", "/api/jobs/nope/suspend", "operator"],
  ["POST", "/api/jobs/nope/resume", "operator"],
  ["POST", "/api/jobs/nope/stop", "operator"],
  ["POST", "/api/schedules/nope/pause", "operator"],
  ["POST", "/api/schedules/nope/resume", "operator"],
  ["POST", "/api/workers/nobody/drain", "admin", { timeout: "1m" }],
  ["PUT", "/api/deployment", "admin", { workers: [] }],
  ["GET", "/api/tokens", "admin"],
  ["POST", "/api/tokens", "admin", { name: "x", role: "superuser" }],
  ["DELETE", "/api/tokens/nobody", "admin"],
  ["GET", "/api/webhooks", "admin"],
  ["POST", "/api/webhooks", "admin", { name: "x", runbook: "no-such-runbook" }],
  ["DELETE", "/api/webhooks/nobody", "admin"],
];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

describe("access control", () => {
  it.each(ENDPOINTS)("%s %s: 401 without a valid token, 403 below %s, allowed from there", async (method, url, needed, body) => {
    const none = await call(base, method, url, null, body);
    expect(none.status).toBe(401);
    expect(none.body.error).toMatch(/Bearer/);
    for (const bad of ["rbt_not-a-token", "garbage", ""]) {
      const r = await call(base, method, url, bad, body);
      expect(r.status, `token ${JSON.stringify(bad)}`).toBe(401);
      expect(typeof r.body.error).toBe("string");
    }
    for (const role of ["viewer", "operator", "admin"] as const) {
      const r = await call(base, method, url, f.tokens[role], body);
      if (RANK[role] < RANK[needed]) {
        expect(r.status, role).toBe(403);
        expect(r.body.error).toMatch(new RegExp(`token \\w+ is a ${role}; this needs an? ${needed} token`));
      } else {
        expect([401, 403, 500], `${role}: ${JSON.stringify(r.body)}`).not.toContain(r.status);
      }
    }
  });

  it("a revoked token is refused at once", async () => {
    const { token } = await f.op.createToken("short-lived", "admin");
    expect((await call(base, "GET", "/api/jobs", token)).status).toBe(200);
    expect((await call(base, "DELETE", "/api/tokens/short-lived", f.tokens.admin)).body).toEqual({ revoked: "short-lived" });
    expect((await call(base, "GET", "/api/jobs", token)).status).toBe(401);
  });

  it("admins make tokens through the API; the token is shown once and only its hash is stored", async () => {
    const made = await call(base, "POST", "/api/tokens", f.tokens.admin, { name: "ci-bot", role: "operator" });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: "ci-bot", role: "operator" });
    expect(made.body.token).toMatch(/^rbt_[A-Za-z0-9_-]{43}$/);
    const stored = (await f.db.pool.query("SELECT * FROM api_tokens WHERE name = 'ci-bot'")).rows[0];
    expect(JSON.stringify(stored)).not.toContain(made.body.token.slice(4));
    const listed = await call(base, "GET", "/api/tokens", f.tokens.admin);
    expect(listed.body.map((t: { name: string }) => t.name)).toContain("ci-bot");
    expect(JSON.stringify(listed.body)).not.toMatch(/rbt_|hash/);
    expect((await call(base, "POST", "/api/tokens", f.tokens.admin, { name: "ci-bot", role: "viewer" })).status).toBe(409);
    expect((await call(base, "POST", "/api/tokens", f.tokens.admin, { name: "bad name!", role: "viewer" })).body.error).toMatch(/token name "bad name!": use letters/);
  });
});

describe("jobs", () => {
  it("starts a job with parameters checked as the CLI checks them", async () => {
    const op = f.tokens.operator;
    const bad = await call(base, "POST", "/api/jobs", op, { runbook: "greet", params: { name: "x", times: "lots" } });
    expect(bad).toMatchObject({ status: 400, body: { error: 'parameter times (number): expected number, got string "lots"' } });
    expect((await call(base, "POST", "/api/jobs", op, { runbook: "greet", params: {} })).body.error).toBe('missing parameter name (string): give "name"');
    expect((await call(base, "POST", "/api/jobs", op, { runbook: "greet", params: { name: "x", colour: 1 } })).body.error).toBe("unknown parameter colour for runbook greet (it takes name, times)");
    expect((await call(base, "POST", "/api/jobs", op, { runbook: "greeet", params: {} })).body).toEqual({ error: "no published runbook greeet (did you mean greet?)" });
    // Placement (migration 0011): a bad group or priority is refused like a bad parameter.
    expect((await call(base, "POST", "/api/jobs", op, { runbook: "greet", params: { name: "x" }, group: "a b" })).body).toEqual({ error: 'group "a b" is not a group name (letters, digits, _ . -; at most 63 characters)' });
    expect((await call(base, "POST", "/api/jobs", op, { runbook: "greet", params: { name: "x" }, priority: 1.5 })).status).toBe(400);
    expect((await call(base, "POST", "/api/jobs", op, "{not json")).body).toEqual({ error: "the body is not JSON" });
    expect((await call(base, "POST", "/api/jobs", op, [1, 2])).body).toEqual({ error: "the body must be a JSON object" });
    expect((await call(base, "POST", "/api/jobs", op, "runbook=greet", { "content-type": "text/plain", origin: base })).status).toBe(415);
    expect((await call(base, "POST", "/api/jobs", op)).body).toEqual({ error: "the request needs a JSON body" });

    const first = await call(base, "POST", "/api/jobs", op, { runbook: "deploy", params: { service: "api", dry: true }, id: "deploy-1" });
    expect(first).toMatchObject({ status: 201, body: { id: "deploy-1" } });
    const again = await call(base, "POST", "/api/jobs", op, { runbook: "deploy", params: { service: "api", dry: true }, id: "deploy-1" });
    expect(again.body).toEqual({ id: "deploy-1" });
    expect((await call(base, "POST", "/api/jobs", op, { runbook: "greet", params: { name: "x" }, id: "deploy-1" })).status).toBe(409);

    const done = await waitFor("deploy-1 to complete", async () => {
      const r = await call(base, "GET", "/api/jobs/deploy-1", f.tokens.viewer);
      return r.body.job.status === "completed" && r.body;
    });
    expect(done.job).toMatchObject({ id: "deploy-1", runbook: "deploy", params: { service: "api", dry: true }, result: "api@eu" });
    expect(done.job.state).toBeUndefined();
    expect(done.history[0]).toMatchObject({ to_status: "queued", reason: "started by token otto" });
    const out = await call(base, "GET", "/api/jobs/deploy-1/output", f.tokens.viewer);
    expect(out.body).toMatchObject({ records: [{ seq: 1, stream: "output", value: "deploying api to eu (dry: true)" }], next: null });
  });

  it("lists jobs with filters and pages through them with a cursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "greet", params: { name: `p${i}`, times: 1 }, id: `page-${i}` });
      ids.push(r.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/api/jobs?runbook=greet&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const r = await call(base, "GET", q, f.tokens.viewer);
      expect(r.status).toBe(200);
      expect(r.body.jobs.length).toBeLessThanOrEqual(3);
      seen.push(...r.body.jobs.map((j: { id: string }) => j.id));
      cursor = r.body.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const deploys = await call(base, "GET", "/api/jobs?runbook=deploy", f.tokens.viewer);
    expect(deploys.body.jobs.map((j: { id: string }) => j.id)).toEqual(["deploy-1"]);
    expect((await call(base, "GET", "/api/jobs?status=completed&runbook=deploy", f.tokens.viewer)).body.jobs).toHaveLength(1);
    expect((await call(base, "GET", "/api/jobs?parent=page-0", f.tokens.viewer)).body.jobs).toEqual([]);
    expect((await call(base, "GET", "/api/jobs?status=sleepy", f.tokens.viewer)).body.error).toMatch(/^unknown status sleepy: use one of queued, running/);
    expect((await call(base, "GET", "/api/jobs?limit=0", f.tokens.viewer)).status).toBe(400);
    expect((await call(base, "GET", "/api/jobs?limit=ten", f.tokens.viewer)).body.error).toBe('limit must be a whole number, not "ten"');
    expect((await call(base, "GET", "/api/jobs?cursor=forged", f.tokens.viewer)).body.error).toMatch(/^cursor is not one this server gave/);
  });

  it("shows a job's locals at its checkpoint, takes a signal, and names each token in the history", async () => {
    const { body } = await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "greet", params: { name: "ops", times: 2 }, id: "greet-sig" });
    expect(body.id).toBe("greet-sig");
    const waiting = await waitFor("greet-sig to wait", async () => {
      const r = await call(base, "GET", "/api/jobs/greet-sig", f.tokens.viewer);
      return r.body.job.status === "waiting" && r.body;
    });
    expect(waiting.job.wait_signal).toBe("approve");
    expect(waiting.locals.sealed).toBe(false);
    expect(waiting.locals.frames[0].runbook).toBe("greet");
    expect(waiting.locals.frames[0].locals).toMatchObject({ name: "ops", times: 2 });
    expect(Object.keys(waiting.locals.frames[0].locals).some((k) => k.startsWith("$"))).toBe(false);

    // Suspend and resume while it waits, then the signal.
    expect((await call(base, "POST", "/api/jobs/greet-sig/suspend", f.tokens.operator)).body).toEqual({ outcome: "suspended", status: "suspended" });
    expect((await call(base, "POST", "/api/jobs/greet-sig/suspend", f.tokens.operator)).status).toBe(409);
    expect((await call(base, "POST", "/api/jobs/greet-sig/resume", f.tokens.admin)).body).toEqual({ outcome: "resumed", status: "queued" });
    await waitFor("greet-sig to wait again", async () => (await call(base, "GET", "/api/jobs/greet-sig", f.tokens.viewer)).body.job.status === "waiting");
    expect((await call(base, "POST", "/api/jobs/greet-sig/signal", f.tokens.operator, { payload: "yes" })).status).toBe(400);
    const sig = await call(base, "POST", "/api/jobs/greet-sig/signal", f.tokens.operator, { name: "approve", payload: "yes" });
    expect(sig.body).toEqual({ woke: true, status: "queued" });
    const done = await waitFor("greet-sig to complete", async () => {
      const r = await call(base, "GET", "/api/jobs/greet-sig", f.tokens.viewer);
      return r.body.job.status === "completed" && r.body;
    });
    const reasons = done.history.map((h: { reason: string }) => h.reason);
    expect(reasons).toEqual(expect.arrayContaining(["started by token otto", "suspended by token otto", "resumed by token ada", "signal approve received from token otto"]));
    expect((await call(base, "POST", "/api/jobs/greet-sig/stop", f.tokens.operator)).body).toEqual({ error: "job greet-sig has already ended (completed)" });
    expect((await call(base, "POST", "/api/jobs/greet-sig/signal", f.tokens.operator, { name: "approve" })).status).toBe(409);
    const out = await call(base, "GET", "/api/jobs/greet-sig/output?after=1&limit=1", f.tokens.viewer);
    expect(out.body).toMatchObject({ records: [{ seq: 2, value: "hello ops 2" }], next: 2 });
  });

  it("stops a waiting job, and keeps a signal for a job not yet waiting, noting who sent it", async () => {
    await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "greet", params: { name: "s" }, id: "greet-stop" });
    const kept = await call(base, "POST", "/api/jobs/greet-stop/signal", f.tokens.operator, { name: "later", payload: null });
    expect(kept.body.woke).toBe(false);
    await waitFor("greet-stop to wait", async () => (await call(base, "GET", "/api/jobs/greet-stop", f.tokens.viewer)).body.job.status === "waiting");
    expect((await call(base, "POST", "/api/jobs/greet-stop/stop", f.tokens.operator)).body).toEqual({ outcome: "stopped", status: "stopped" });
    const d = (await call(base, "GET", "/api/jobs/greet-stop", f.tokens.viewer)).body;
    expect(d.history.map((h: { reason: string }) => h.reason)).toEqual(expect.arrayContaining(["signal later sent by token otto", "stopped by token otto"]));
    expect((await call(base, "GET", "/api/jobs/greet-sto", f.tokens.viewer)).body).toEqual({ error: "no job greet-sto (did you mean greet-sig, greet-stop?)" });
  });
});

describe("fleet and runbooks", () => {
  it("lists workers with their slots, shows and replaces the deployment, and drains", async () => {
    const w = (await call(base, "GET", "/api/workers", f.tokens.viewer)).body;
    expect(w.workers.map((x: { name: string; state: string }) => [x.name, x.state])).toEqual([["w-api", "alive"]]);
    expect(w.owners).toHaveLength(256);
    expect(new Set(w.owners)).toEqual(new Set(["w-api"]));
    expect(w.workers[0].slots).toBe(256);
    const d = (await call(base, "GET", "/api/deployment", f.tokens.viewer)).body;
    expect(d.workers).toEqual([{ name: "w-api", state: "alive", slots: 256 }]);
    const put = await call(base, "PUT", "/api/deployment", f.tokens.admin, { workers: ["w-api", "w-api"] });
    expect(put.status).toBe(200);
    expect(put.body.deployment.workers).toEqual(["w-api"]);
    expect(Number(put.body.deployment.generation)).toBeGreaterThan(Number(d.deployment.generation));
    expect((await call(base, "PUT", "/api/deployment", f.tokens.admin, { workers: "w-api" })).body).toEqual({ error: "workers must be a list of worker names" });
    expect((await call(base, "POST", "/api/workers/nobody/drain", f.tokens.admin, { timeout: "soon" })).body.error).toMatch(/timeout is a duration/);
    expect((await call(base, "POST", "/api/workers/nobody/drain", f.tokens.admin, {})).body).toEqual({ error: "no live worker nobody (alive: w-api)" });
  });

  it("lists published runbooks with their parameter types", async () => {
    const rbs = (await call(base, "GET", "/api/runbooks", f.tokens.viewer)).body;
    const greet = rbs.find((r: { name: string }) => r.name === "greet");
    expect(greet.current.params.map((p: { name: string; type: string; hasDefault: boolean }) => [p.name, p.type, p.hasDefault])).toEqual([
      ["name", "string", false],
      ["times", "number", true],
    ]);
    expect(greet.versions).toHaveLength(1);
    expect(greet.versions[0]).toMatchObject({ hash: greet.current.hash, current: true });
    expect((await call(base, "GET", "/api/schedules", f.tokens.viewer)).body).toEqual([]);
  });
});

describe("sessions", () => {
  it("signs in with a pasted token into an HttpOnly SameSite=Strict cookie, and needs the CSRF header to change anything", async () => {
    expect((await call(base, "POST", "/api/session", null, { token: "rbt_wrong" })).status).toBe(401);
    const signIn = await call(base, "POST", "/api/session", null, { token: f.tokens.operator });
    expect(signIn.status).toBe(200);
    expect(signIn.body).toMatchObject({ name: "otto", role: "operator" });
    const cookie = signIn.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^runbook_session=rbt_/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    // A browser sends Origin with every same-origin request that changes something.
    const jar = cookie.split(";")[0];
    const same = { cookie: jar, origin: base };
    const session = await call(base, "GET", "/api/session", null, undefined, { cookie: jar });
    expect(session.body).toEqual({ name: "otto", role: "operator", csrf: signIn.body.csrf });
    expect((await call(base, "GET", "/api/jobs?limit=1", null, undefined, { cookie: jar })).status).toBe(200);

    const start = { runbook: "deploy", params: { service: "csrf" } };
    const forged = await call(base, "POST", "/api/jobs", null, start, same);
    expect(forged.status).toBe(403);
    expect(forged.body.error).toMatch(/x-csrf-token/);
    expect((await call(base, "POST", "/api/jobs", null, start, { ...same, "x-csrf-token": "guess" })).status).toBe(403);
    // A form posted from another site's page: refused by the origin check before anything else.
    const form = await call(base, "POST", "/api/jobs", null, "runbook=deploy", { cookie: jar, "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" });
    expect(form.status).toBe(403);
    const ok = await call(base, "POST", "/api/jobs", null, start, { ...same, "x-csrf-token": signIn.body.csrf });
    expect(ok.status).toBe(201);
    const out = await call(base, "DELETE", "/api/session", null, undefined, same);
    expect(out.headers.get("set-cookie")).toMatch(/runbook_session=;/);
  });
});

describe("errors", () => {
  it("answers JSON {error} for unknown endpoints, and never a stack trace", async () => {
    const r = await call(base, "GET", "/api/nothing-here", f.tokens.viewer);
    expect(r).toMatchObject({ status: 404, body: { error: "no such endpoint: GET /api/nothing-here" } });
    const big = await call(base, "POST", "/api/jobs", f.tokens.operator, { runbook: "deploy", params: { service: "x".repeat(1_100_000) } });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/larger than/);
    expect((await call(base, "GET", "/api/jobs/nope/output?after=-1", f.tokens.viewer)).status).toBe(400);
  });
});
