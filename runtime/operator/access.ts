// Who may use the operator API: API tokens with a role, and webhooks that start one runbook.
// A secret is 32 random bytes, printed once; the database keeps its SHA-256 (migration 0013).
import { createHash, randomBytes } from "node:crypto";
import type { Json } from "../abi.js";
import type { Db } from "../db/connect.js";
import { parseJobParams } from "../params.js";
import { deleteToken, deleteWebhook, insertToken, insertWebhook, listTokens, listWebhooks, ROLES, tokenByHash, webhookByHash, type Role, type TokenRow, type WebhookRow } from "../sql/access.js";
import { currentVersion } from "../sql/versions.js";
import { OperatorError } from "./errors.js";
import { startJob } from "./jobs.js";

export type { Role, TokenRow, WebhookRow };
export { ROLES };

/** What each role may do, lowest first: each role may do what the ones before it may. */
export function allows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Token and webhook secrets carry a prefix, so a leaked one is recognisable (secret scanners). */
const TOKEN_PREFIX = "rbt_";
const WEBHOOK_PREFIX = "rbw_";

function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export function secretHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** The database's CHECK on names (migration 0013) as a one-line error. */
async function named<T>(what: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { code?: string }).code === "23514") {
      throw new OperatorError(`${what} name ${JSON.stringify(name)}: use letters, digits and . _ @ - (up to 64, starting with a letter or digit)`, "invalid");
    }
    throw e;
  }
}

export async function createToken(db: Db, name: string, role: string): Promise<{ name: string; role: Role; token: string }> {
  if (!ROLES.includes(role as Role)) throw new OperatorError(`unknown role ${role}: use one of ${ROLES.join(", ")}`, "invalid");
  const token = newSecret(TOKEN_PREFIX);
  const inserted = await named("token", name, () => insertToken(db.pool, name, role as Role, secretHash(token)));
  if (!inserted) throw new OperatorError(`a token named ${name} exists already (revoke it first, or pick another name)`, "conflict");
  return { name, role: role as Role, token };
}

export function tokens(db: Db): Promise<TokenRow[]> {
  return listTokens(db.pool);
}

export async function revokeToken(db: Db, name: string): Promise<void> {
  if (!(await deleteToken(db.pool, name))) throw new OperatorError(`no token ${name}`, "not-found");
}

/** The token's name and role, or null when it is not one (never made, or revoked). */
export async function authenticate(db: Db, token: string): Promise<TokenRow | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  return tokenByHash(db.pool, secretHash(token));
}

export interface NewWebhook {
  name: string;
  runbook: string;
  /** Fixed parameters as `--param k=v` flags; a request's body fields go over them. */
  flags: string[];
  /** How long the URL works (null: until revoked). */
  expiresInMs: number | null;
}

/** Makes the webhook; returns its secret, the last part of its URL (`/hooks/SECRET`). */
export async function createWebhook(db: Db, w: NewWebhook): Promise<{ name: string; secret: string }> {
  const version = await currentVersion(db.pool, w.runbook);
  if (!version) throw new OperatorError(`no published runbook ${w.runbook}`, "not-found");
  if (w.expiresInMs !== null && !(w.expiresInMs > 0)) throw new OperatorError("a webhook's expiry must be a positive duration", "invalid");
  // Checked now, so a typo fails here and not at the first call; the body may add the rest.
  const params = parseJobParams(w.runbook, version.params, w.flags, false);
  const secret = newSecret(WEBHOOK_PREFIX);
  const inserted = await named("webhook", w.name, () => insertWebhook(db.pool, { name: w.name, runbook: w.runbook, params, hash: secretHash(secret), expiresInMs: w.expiresInMs }));
  if (!inserted) throw new OperatorError(`a webhook named ${w.name} exists already (revoke it first, or pick another name)`, "conflict");
  return { name: w.name, secret };
}

export function webhooks(db: Db): Promise<WebhookRow[]> {
  return listWebhooks(db.pool);
}

export async function revokeWebhook(db: Db, name: string): Promise<void> {
  if (!(await deleteWebhook(db.pool, name))) throw new OperatorError(`no webhook ${name}`, "not-found");
}

/**
 * A call of the webhook whose secret is `secret`: starts its runbook with the body's fields over
 * the fixed parameters, checked as any start is. The job's history names the webhook.
 */
export async function callWebhook(db: Db, secret: string, body: unknown): Promise<{ id: string; webhook: string }> {
  const hook = secret.startsWith(WEBHOOK_PREFIX) ? await webhookByHash(db.pool, secretHash(secret)) : null;
  if (!hook) throw new OperatorError("no such webhook (revoked, or the URL is wrong)", "not-found");
  if (hook.expired) throw new OperatorError(`webhook ${hook.name} has expired`, "not-found");
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new OperatorError("the body must be a JSON object of parameters", "invalid");
  const values: Record<string, Json> = { ...hook.params, ...(body as Record<string, Json>) };
  const { id } = await startJob(db, `webhook ${hook.name}`, { runbook: hook.runbook, params: { values } });
  return { id, webhook: hook.name };
}
