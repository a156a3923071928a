// Who is calling, and may they: `Authorization: Bearer TOKEN`, or the console's session cookie
// (which holds the same token, HttpOnly and SameSite=Strict). A missing or unknown token is 401,
// a role too low 403.
//
// Cross-site request forgery: a browser attaches the cookie to any request to this server, even
// one a page of another site makes. So a state-changing request authenticated by the cookie
// must also carry `X-CSRF-Token`, a value derived from the session that only a page of this
// origin can read (GET /api/session answers it; another origin cannot read that answer, and
// cannot set a custom header on a cross-site request without a CORS preflight this server never
// grants). hono/csrf's origin check runs in front as well, for form posts. A Bearer request is
// not at risk: a browser never adds that header by itself.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { allows, type Role, type TokenRow } from "../operator/access.js";
import type { Operator } from "../operator/index.js";

export const SESSION_COOKIE = "runbook_session";
export const CSRF_HEADER = "x-csrf-token";

/** What a request carries once authenticated (c.get("caller")). */
export interface Caller {
  token: TokenRow;
  /** Authenticated by the session cookie (then state changes need the CSRF header). */
  viaCookie: boolean;
  /** The raw token, to derive the session's CSRF token from. */
  secret: string;
}

export type Env = { Variables: { caller: Caller } };

export class Sessions {
  /** Per server process: a restart makes the console fetch a new CSRF token (GET /api/session). */
  private readonly key = randomBytes(32);

  csrfToken(secret: string): string {
    return createHmac("sha256", this.key).update(secret).digest("base64url");
  }

  csrfValid(secret: string, given: string | undefined): boolean {
    if (!given) return false;
    const want = Buffer.from(this.csrfToken(secret));
    const got = Buffer.from(given);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

function bearer(c: Context): string | null {
  const h = c.req.header("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : "";
}

/** Authenticates every request it guards (401 when it cannot), and checks CSRF for cookie sessions. */
export function authenticate(op: Operator, sessions: Sessions): MiddlewareHandler<Env> {
  return async (c, next) => {
    const fromHeader = bearer(c);
    const secret = fromHeader ?? getCookie(c, SESSION_COOKIE) ?? null;
    if (secret === null) return c.json({ error: "sign in: send Authorization: Bearer TOKEN (runbook token create NAME --role ROLE)" }, 401);
    const token = secret === "" ? null : await op.authenticate(secret);
    if (!token) return c.json({ error: "the token is not valid (revoked, mistyped, or never made)" }, 401);
    const viaCookie = fromHeader === null;
    if (viaCookie && !SAFE.has(c.req.method) && !sessions.csrfValid(secret, c.req.header(CSRF_HEADER))) {
      return c.json({ error: `a change made with the session cookie needs the ${CSRF_HEADER} header (GET /api/session gives it)` }, 403);
    }
    c.set("caller", { token, viaCookie, secret });
    await next();
  };
}

/** 403 unless the caller's role is at least `needed`. */
export function requireRole(needed: Role): MiddlewareHandler<Env> {
  return async (c, next) => {
    const { token } = c.get("caller");
    if (!allows(token.role, needed)) return c.json({ error: `token ${token.name} is a ${token.role}; this needs ${needed === "viewer" ? "a" : "an"} ${needed} token` }, 403);
    await next();
  };
}

/** The actor the jobs' history names for this caller. */
export function actorOf(c: Context<Env>): string {
  return `token ${c.get("caller").token.name}`;
}
