// API tokens and webhooks (migration 0013): stored by the hash of their secret, looked up by it.
import type { Json } from "../abi.js";
import { encodeJson } from "../json-text.js";
import type { Queryable } from "../rows.js";

export type Role = "viewer" | "operator" | "admin";
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

export interface TokenRow {
  name: string;
  role: Role;
  created_at: Date;
  last_used_at: Date | null;
}

export interface WebhookRow {
  name: string;
  runbook: string;
  params: Record<string, Json>;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

/** False when the name is taken. */
export async function insertToken(db: Queryable, name: string, role: Role, hash: string): Promise<boolean> {
  const { rowCount } = await db.query("INSERT INTO api_tokens (name, role, hash) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING", [name, role, hash]);
  return rowCount === 1;
}

export async function listTokens(db: Queryable): Promise<TokenRow[]> {
  const { rows } = await db.query<TokenRow>("SELECT name, role, created_at, last_used_at FROM api_tokens ORDER BY name");
  return rows;
}

export async function deleteToken(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM api_tokens WHERE name = $1", [name]);
  return rowCount === 1;
}

/**
 * The token with this hash, noting its use. last_used_at moves at most once a minute, so a
 * console polling every second does not write a row version per request.
 */
export async function tokenByHash(db: Queryable, hash: string): Promise<TokenRow | null> {
  const { rows } = await db.query<TokenRow>(
    `WITH found AS (SELECT name, role, created_at, last_used_at FROM api_tokens WHERE hash = $1),
          touched AS (UPDATE api_tokens SET last_used_at = now()
                      WHERE hash = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
     SELECT * FROM found`,
    [hash],
  );
  return rows[0] ?? null;
}

/** False when the name is taken. */
export async function insertWebhook(
  db: Queryable,
  w: { name: string; runbook: string; params: Record<string, Json>; hash: string; expiresInMs: number | null },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO webhooks (name, runbook, params, hash, expires_at)
     VALUES ($1, $2, $3::json, $4, now() + $5 * interval '1 millisecond')
     ON CONFLICT (name) DO NOTHING`,
    [w.name, w.runbook, encodeJson(w.params, "the webhook's parameters"), w.hash, w.expiresInMs],
  );
  return rowCount === 1;
}

export async function listWebhooks(db: Queryable): Promise<WebhookRow[]> {
  const { rows } = await db.query<WebhookRow>("SELECT name, runbook, params, created_at, expires_at, last_used_at FROM webhooks ORDER BY name");
  return rows;
}

export async function deleteWebhook(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM webhooks WHERE name = $1", [name]);
  return rowCount === 1;
}

/** The webhook with this hash and whether it has expired (by the database's clock), noting its use. */
export async function webhookByHash(db: Queryable, hash: string): Promise<(WebhookRow & { expired: boolean }) | null> {
  const { rows } = await db.query<WebhookRow & { expired: boolean }>(
    `UPDATE webhooks SET last_used_at = now() WHERE hash = $1
     RETURNING name, runbook, params, created_at, expires_at, last_used_at, coalesce(expires_at <= now(), false) AS expired`,
    [hash],
  );
  return rows[0] ?? null;
}
