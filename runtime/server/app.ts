// The HTTP API of `runbook serve`: JSON over the operator API (runtime/operator/), so the CLI,
// this API and the web console never disagree. Errors are JSON {error} with the status of the
// OperatorError's kind; nothing else escapes as a stack trace.
//
//   viewer:   GET /api/jobs, /api/jobs/:id, /api/jobs/:id/output[?follow=1], /api/workers,
//             /api/deployment, /api/runbooks, /api/runbooks/:name/versions/:hash,
//             /api/schedules, /api/session; GET /metrics
//   operator: POST /api/jobs, /api/jobs/:id/signal, /api/jobs/:id/suspend|resume|stop
//   admin:    POST /api/workers/:name/drain, PUT /api/deployment, /api/tokens, /api/webhooks
//   anyone:   POST /api/session {token} (sign in), DELETE /api/session; POST /hooks/SECRET
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { Json } from "../abi.js";
import { httpStatus, Operator, OperatorError } from "../operator/index.js";
import { parseDuration } from "../params.js";
import { actorOf, authenticate, requireRole, Sessions, SESSION_COOKIE, type Env } from "./auth.js";
import { followOutput } from "./follow-sse.js";
import { serveConsole } from "./console.js";
import { Feeds } from "./feeds.js";
import { Metrics } from "./metrics.js";

export interface AppOptions {
  /** How often a followed job is read (one reader per job, however many follow it). */
  followPollMs?: number;
  /** Log a line (unexpected errors). */
  log?: (line: string) => void;
}

export interface App {
  app: Hono<Env>;
  feeds: Feeds;
}

const MAX_BODY = 1024 * 1024;

export function createApp(op: Operator, options: AppOptions = {}): App {
  const app = new Hono<Env>();
  const sessions = new Sessions();
  const feeds = new Feeds(op.db.pool, options.followPollMs);
  const metrics = new Metrics(op.db);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const as = (c: Context<Env>) => op.as(actorOf(c));

  app.onError((err, c) => {
    if (err instanceof OperatorError) return c.json({ error: err.message }, httpStatus(err.kind));
    if (err instanceof HTTPException) return c.json({ error: err.message || (err.status === 403 ? "refused: a request with the session cookie from another origin" : "bad request") }, err.status);
    log(`runbook serve: ${c.req.method} ${c.req.path}: ${err instanceof Error ? err.message : String(err)}`);
    return c.json({ error: "internal error (the server's log has the details)" }, 500);
  });
  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  // A request carrying the session cookie from another origin (a form another site's page
  // posts) is refused outright; auth.ts also wants the CSRF header on it. A request without
  // the cookie carries no credential a browser would add by itself, so it is not at risk.
  const sameOrigin = csrf();
  app.use("*", (c, next) => (c.req.header("cookie") ? sameOrigin(c, next) : next()));
  app.use("*", bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.json({ error: `the body is larger than ${MAX_BODY} bytes` }, 413) }));

  // --- the web console's static pages (runtime/server/console.ts); they read the API below
  serveConsole(app);

  // --- webhooks: the secret in the URL is the credential
  app.post("/hooks/:secret", async (c) => c.json(await op.callWebhook(c.req.param("secret"), await jsonBody(c, {})), 201));

  // --- the console's session
  app.post("/api/session", async (c) => {
    const body = await jsonBody(c);
    const token = typeof body.token === "string" ? body.token.trim() : "";
    const found = token ? await op.authenticate(token) : null;
    if (!found) return c.json({ error: "the token is not valid (revoked, mistyped, or never made)" }, 401);
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/", secure: new URL(c.req.url).protocol === "https:" });
    return c.json({ name: found.name, role: found.role, csrf: sessions.csrfToken(token) });
  });
  app.delete("/api/session", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.json({ signedOut: true });
  });

  // --- everything else needs a token
  const auth = authenticate(op, sessions);
  app.use("/api/*", auth);
  app.use("/metrics", auth);

  app.get("/api/session", (c) => {
    const { token, secret } = c.get("caller");
    return c.json({ name: token.name, role: token.role, csrf: sessions.csrfToken(secret) });
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.scrape();
    return c.text(text, 200, { "content-type": metrics.contentType });
  });

  // jobs
  app.get("/api/jobs", async (c) => {
    const q = c.req.query();
    return c.json(await op.jobs({ status: q.status, runbook: q.runbook, parent: q.parent, schedule: q.schedule, cursor: q.cursor, limit: intParam(q.limit, "limit") }));
  });
  app.post("/api/jobs", requireRole("operator"), async (c) => {
    const body = await jsonBody(c);
    const { id } = await as(c).start({
      runbook: body.runbook as string,
      params: { values: body.params ?? {} },
      id: body.id as string | undefined,
      group: body.group as string | undefined,
      priority: body.priority as number | undefined,
    });
    return c.json({ id }, 201);
  });
  app.get("/api/jobs/:id", async (c) => c.json(await op.job(c.req.param("id"))));
  app.get("/api/jobs/:id/output", async (c) => {
    const id = c.req.param("id");
    const q = c.req.query();
    // An EventSource reconnecting says where it was in Last-Event-ID (the record's seq).
    const after = intParam(q.after ?? c.req.header("last-event-id"), "after") ?? 0;
    if (q.follow === "1" || q.follow === "true") {
      await op.jobRow(id);
      return followOutput(c, feeds, id, after);
    }
    return c.json(await op.output(id, after, intParam(q.limit, "limit")));
  });
  app.post("/api/jobs/:id/signal", requireRole("operator"), async (c) => {
    const body = await jsonBody(c);
    return c.json(await as(c).signal(c.req.param("id"), body.name, (body.payload ?? null) as Json));
  });
  for (const verb of ["suspend", "resume", "stop"] as const) {
    app.post(`/api/jobs/:id/${verb}`, requireRole("operator"), async (c) => c.json(await as(c).control(verb, c.req.param("id"))));
  }

  // the fleet
  app.get("/api/workers", async (c) => c.json(await op.fleet()));
  app.post("/api/workers/:name/drain", requireRole("admin"), async (c) => {
    const body = await jsonBody(c, {});
    const timeout = body.timeout === undefined ? 600_000 : typeof body.timeout === "string" ? parseDuration(body.timeout) : typeof body.timeout === "number" ? body.timeout : null;
    if (timeout === null) throw new OperatorError("timeout is a duration like 30s or 10m (or milliseconds)", "invalid");
    return c.json(await as(c).drain(c.req.param("name"), timeout, body.suspend === true));
  });
  app.get("/api/deployment", async (c) => c.json(await op.deployment()));
  app.put("/api/deployment", requireRole("admin"), async (c) => c.json(await as(c).deploy((await jsonBody(c)).workers)));

  // runbooks and schedules
  app.get("/api/runbooks", async (c) => c.json(await op.runbooks()));
  app.get("/api/runbooks/:name/versions/:hash", async (c) => c.json(await op.version(c.req.param("name"), c.req.param("hash"))));
  app.get("/api/schedules", async (c) => c.json(await op.schedules()));
  app.post("/api/schedules/:name/pause", requireRole("operator"), async (c) => c.json(await op.pauseSchedule(c.req.param("name"))));
  app.post("/api/schedules/:name/resume", requireRole("operator"), async (c) => c.json(await op.resumeSchedule(c.req.param("name"))));

  // access
  app.get("/api/tokens", requireRole("admin"), async (c) => c.json(await op.tokens()));
  app.post("/api/tokens", requireRole("admin"), async (c) => {
    const body = await jsonBody(c);
    return c.json(await op.createToken(String(body.name ?? ""), String(body.role ?? "")), 201);
  });
  app.delete("/api/tokens/:name", requireRole("admin"), async (c) => {
    await op.revokeToken(c.req.param("name"));
    return c.json({ revoked: c.req.param("name") });
  });
  app.get("/api/webhooks", requireRole("admin"), async (c) => c.json(await op.webhooks()));
  app.post("/api/webhooks", requireRole("admin"), async (c) => {
    const body = await jsonBody(c);
    const expires = body.expires === undefined || body.expires === null ? null : parseDuration(String(body.expires));
    if (body.expires !== undefined && body.expires !== null && expires === null) throw new OperatorError("expires is a duration like 30d", "invalid");
    const params = body.params ?? [];
    if (!Array.isArray(params) || params.some((p) => typeof p !== "string")) throw new OperatorError('params is a list of "NAME=VALUE"', "invalid");
    const made = await op.createWebhook({ name: String(body.name ?? ""), runbook: String(body.runbook ?? ""), flags: params as string[], expiresInMs: expires });
    return c.json({ ...made, path: `/hooks/${made.secret}` }, 201);
  });
  app.delete("/api/webhooks/:name", requireRole("admin"), async (c) => {
    await op.revokeWebhook(c.req.param("name"));
    return c.json({ revoked: c.req.param("name") });
  });

  return { app, feeds };
}

/** The request's JSON object body; `empty` when there is none (else 400). */
async function jsonBody(c: Context, empty?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") {
    if (empty) return empty;
    throw new OperatorError("the request needs a JSON body", "invalid");
  }
  // A JSON content type: no HTML form can send one, so it is one more guard against forgery.
  if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) throw new HTTPException(415, { message: "send the body as Content-Type: application/json" });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OperatorError("the body is not JSON", "invalid");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new OperatorError("the body must be a JSON object", "invalid");
  return body as Record<string, unknown>;
}

function intParam(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text)) throw new OperatorError(`${name} must be a whole number, not ${JSON.stringify(text)}`, "invalid");
  return Number(text);
}
