// Assets: named variables and credentials stored by the operator (`runbook asset set`) and read
// by runbooks (`asset(name)`). Secrets are sealed with AES-256-GCM before they reach the
// database; the key comes from env RUNBOOK_SECRET_KEY: 32 bytes in base64, or any other text
// as a passphrase stretched with scrypt (per-secret random salt). The asset's name is bound as
// associated data, so a sealed value moved to another name does not open. During a key
// rotation RUNBOOK_SECRET_KEY_PREVIOUS opens what the previous key sealed (runtime/rekey.ts).
// Every read and write of a secret is recorded in asset_audit, in the same statement.
// `asset_set` lets a runbook store one (rotation). The same envelope seals the secrets a job
// holds in its state (runtime/sealed-state.ts).
//
// Masking: every secret value the runtime knows of is replaced by `***` in stream records
// (maskSecrets); callers collect the values with secretValues / the host's job context.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from "node:crypto";
import { hostname } from "node:os";
import type { Json } from "../abi.js";
import type { QueryFn } from "./sql.js";

export const MASK = "***";
/** Secrets shorter than this would mask ordinary text (every "a" in a log line). */
export const MIN_SECRET_LENGTH = 4;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,199}$/;

export interface StoredAsset {
  name: string;
  secret: boolean;
  value: Json;
}

export function checkAssetName(name: string): void {
  if (!NAME.test(name)) {
    throw new Error(`asset name ${JSON.stringify(name)} is not valid: use letters, digits, _ . - (starting with a letter or _)`);
  }
}

/** A secret must be maskable: every text in it at least MIN_SECRET_LENGTH characters. */
export function checkSecretValue(value: Json): void {
  const texts = secretStrings(value);
  if (texts.length === 0 || texts.some((s) => s.length < MIN_SECRET_LENGTH)) {
    throw new Error(`a secret needs at least ${MIN_SECRET_LENGTH} characters (shorter ones cannot be masked in logs)`);
  }
}

/**
 * The value typed by the operator: a JSON object or list when the text is one (so a structured
 * credential can be stored), otherwise the text as a string ("8080" stays a string: `num()`).
 */
export function parseAssetText(text: string): Json {
  const t = text.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t) as Json;
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Sealing

export interface Key {
  kdf: "raw" | "scrypt";
  key(salt: Buffer): Buffer;
  /**
   * A salt made once per process and key, for envelopes written often (job states): scrypt
   * then runs once per process, not at every checkpoint. Asset values get a fresh salt each.
   */
  processSalt: Buffer;
}

const derived = new Map<string, Buffer>();
const keys = new Map<string, Key>();

/** The key from RUNBOOK_SECRET_KEY (or the given text); a clear error when it is missing. */
export function secretKey(text: string | undefined = process.env.RUNBOOK_SECRET_KEY): Key {
  if (text === undefined || text === "") {
    throw new Error("RUNBOOK_SECRET_KEY is not set: secrets need a key (32 bytes in base64, or a passphrase)");
  }
  let key = keys.get(text);
  if (!key) keys.set(text, (key = makeKey(text)));
  return key;
}

/**
 * The keys that may open an envelope: RUNBOOK_SECRET_KEY (or `text`) first, then
 * RUNBOOK_SECRET_KEY_PREVIOUS while a key rotation is under way (docs/activities.md).
 */
export function secretKeys(text?: string, previous: string | undefined = process.env.RUNBOOK_SECRET_KEY_PREVIOUS): Key[] {
  const out = [secretKey(text)];
  if (previous) out.push(secretKey(previous));
  return out;
}

function makeKey(text: string): Key {
  const trimmed = text.trim();
  if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) {
    const raw = Buffer.from(trimmed, "base64");
    if (raw.length === 32) return { kdf: "raw", key: () => raw, processSalt: Buffer.alloc(0) };
  }
  const id = createHash("sha256").update(text).digest("hex");
  return {
    kdf: "scrypt",
    processSalt: randomBytes(16),
    key(salt) {
      const k = `${id}:${salt.toString("hex")}`;
      let key = derived.get(k);
      if (!key) {
        key = scryptSync(text, salt, 32, { N: 1 << 14, r: 8, p: 1 });
        derived.set(k, key);
      }
      return key;
    },
  };
}

/**
 * `v1.<kdf>.<salt>.<iv>.<tag>.<ciphertext>`, base64url parts. `name` is bound as associated
 * data. `reuseSalt`: the key's per-process salt instead of a fresh one (see Key.processSalt).
 */
export function seal(name: string, value: Json, key: Key, reuseSalt = false): string {
  const salt = key.kdf === "raw" ? Buffer.alloc(0) : reuseSalt ? key.processSalt : randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key.key(salt), iv);
  cipher.setAAD(Buffer.from(name, "utf8"));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  const b = (x: Buffer) => x.toString("base64url");
  return ["v1", key.kdf, b(salt), b(iv), b(cipher.getAuthTag()), b(ct)].join(".");
}

/** Opens an envelope with the first of `keys` that opens it; the first key's error otherwise. */
export function unseal(name: string, sealed: string, keys: Key | Key[]): Json {
  const list = Array.isArray(keys) ? keys : [keys];
  let first: unknown;
  for (const key of list) {
    try {
      return unsealWith(name, sealed, key);
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}

function unsealWith(name: string, sealed: string, key: Key): Json {
  const parts = sealed.split(".");
  if (parts.length !== 6 || parts[0] !== "v1") throw new Error(`secret asset ${name} is stored in an unknown format`);
  const [, kdf, salt, iv, tag, ct] = parts;
  if (kdf !== key.kdf) {
    throw new Error(`cannot open secret asset ${name}: it was sealed with a ${kdf === "raw" ? "base64 key" : "passphrase"}, but RUNBOOK_SECRET_KEY is a ${key.kdf === "raw" ? "base64 key" : "passphrase"}`);
  }
  const buf = (s: string) => Buffer.from(s, "base64url");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key(buf(salt)), buf(iv));
    decipher.setAAD(Buffer.from(name, "utf8"));
    decipher.setAuthTag(buf(tag));
    const text = Buffer.concat([decipher.update(buf(ct)), decipher.final()]).toString("utf8");
    return JSON.parse(text) as Json;
  } catch {
    throw new Error(`cannot open secret asset ${name}: wrong RUNBOOK_SECRET_KEY, or the stored value was altered`);
  }
}

// ---------------------------------------------------------------------------------------------
// Storage (table `assets`, migration 0002)

/**
 * Who reads or writes a secret, for the audit trail (table asset_audit, migration 0006): a job
 * (and the worker running it), or an operator's command.
 */
export interface AssetActor {
  jobId: string | null;
  worker: string | null;
  actor: string;
}

/** An operator's command as an actor: `alice@ops1: asset set`. */
export function commandActor(command: string): AssetActor {
  return { jobId: null, worker: null, actor: `${process.env.USER ?? process.env.LOGNAME ?? "operator"}@${hostname()}: ${command}` };
}

/** A job as an actor. */
export function jobActor(jobId: string, worker: string | null): AssetActor {
  return { jobId, worker, actor: "job" };
}

/** Stores an asset; a write that stores a secret or replaces one is audited in the same statement. */
export async function setAsset(query: QueryFn, name: string, value: Json, secret: boolean, keyText?: string, who: AssetActor = commandActor("asset set")): Promise<void> {
  checkAssetName(name);
  if (secret) checkSecretValue(value);
  const sealed = secret ? seal(name, value, secretKey(keyText)) : null;
  await query(
    `WITH old AS (
       SELECT secret FROM assets WHERE name = $1
     ), stored AS (
       INSERT INTO assets (name, secret, value, sealed, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (name) DO UPDATE SET secret = EXCLUDED.secret, value = EXCLUDED.value,
         sealed = EXCLUDED.sealed, updated_at = now()
       RETURNING name
     )
     INSERT INTO asset_audit (asset, action, job_id, worker, actor)
     SELECT name, 'write', $5, $6, $7 FROM stored
     WHERE $2 OR coalesce((SELECT secret FROM old), false)`,
    [name, secret, secret ? null : JSON.stringify(value), sealed, who.jobId, who.worker, who.actor],
  );
}

/** The asset's value (opened when secret); a clear error for an unknown name. A secret's read is audited. */
export async function getAsset(query: QueryFn, name: string, keyText?: string, who: AssetActor = commandActor("asset get")): Promise<StoredAsset> {
  checkAssetName(name);
  const { rows } = await query(
    `WITH a AS (
       SELECT secret, value, sealed FROM assets WHERE name = $1
     ), audit AS (
       INSERT INTO asset_audit (asset, action, job_id, worker, actor)
       SELECT $1, 'read', $2, $3, $4 FROM a WHERE a.secret
     )
     SELECT * FROM a`,
    [name, who.jobId, who.worker, who.actor],
  );
  const row = rows[0];
  if (!row) throw new Error(`asset ${JSON.stringify(name)} is not set (set it with: runbook asset set ${name})`);
  if (row.secret) return { name, secret: true, value: unseal(name, String(row.sealed), secretKeys(keyText)) };
  return { name, secret: false, value: row.value as Json };
}

/** Is `name` stored as a secret? null when it is not stored at all. */
export async function assetIsSecret(query: QueryFn, name: string): Promise<boolean | null> {
  const { rows } = await query("SELECT secret FROM assets WHERE name = $1", [name]);
  return rows[0] ? Boolean(rows[0].secret) : null;
}

/**
 * The texts to mask for every secret asset stored. Without a key (or for secrets that do not
 * open with it) there is nothing this process could have read, so nothing to mask.
 */
export async function secretValues(query: QueryFn, keyText: string | undefined = process.env.RUNBOOK_SECRET_KEY): Promise<string[]> {
  const { rows } = await query("SELECT name, sealed FROM assets WHERE secret", []);
  if (rows.length === 0 || !keyText) return [];
  const keys = secretKeys(keyText);
  const out: string[] = [];
  for (const row of rows) {
    try {
      out.push(...secretStrings(unseal(String(row.name), String(row.sealed), keys)));
    } catch {
      // Sealed under another key: unreadable here, so it cannot leak from here.
    }
  }
  return out;
}

/**
 * The texts of a secret value to mask: its string leaves and, for structures, its JSON text
 * (numbers and booleans inside a structure are not masked on their own: `true` is everywhere).
 */
export function secretStrings(value: Json): string[] {
  const out: string[] = [];
  const walk = (v: Json) => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null) Object.values(v).forEach(walk);
  };
  walk(value);
  if (value !== null && typeof value === "object") out.push(JSON.stringify(value));
  return out.filter((s) => s.length > 0);
}

/**
 * Could `value` contain a secret's text? Only through a string (or a map key) at least as long
 * as the shortest secret allowed; lets the worker skip looking secrets up for a job that ends
 * with null, numbers or short words.
 */
export function mayHoldSecret(value: Json): boolean {
  if (typeof value === "string") return value.length >= MIN_SECRET_LENGTH;
  if (Array.isArray(value)) return value.some(mayHoldSecret);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(([k, v]) => k.length >= MIN_SECRET_LENGTH || mayHoldSecret(v));
  }
  return false;
}

/**
 * A copy of `value` with every occurrence of each secret text replaced by `***` (in strings
 * and keys; also the JSON-escaped form, as found inside interpolated JSON).
 */
export function maskSecrets(value: Json, secrets: Iterable<string>): Json {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    needles.add(s);
    needles.add(JSON.stringify(s).slice(1, -1));
  }
  if (needles.size === 0) return value;
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const maskText = (t: string) => {
    let out = t;
    for (const n of sorted) if (out.includes(n)) out = out.split(n).join(MASK);
    return out;
  };
  const walk = (v: Json): Json => {
    if (typeof v === "string") return maskText(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const o: { [key: string]: Json } = {};
      for (const [k, e] of Object.entries(v)) o[maskText(k)] = walk(e);
      return o;
    }
    return v;
  };
  return walk(value);
}

/** `asset(name)`: reads the asset and tells `onSecret` the texts to mask from now on. */
export async function asset(args: { name: Json }, query: QueryFn | undefined, onSecret: (texts: string[]) => void, keyText?: string, who?: AssetActor): Promise<Json> {
  if (typeof args.name !== "string") throw new Error(`asset name must be a string, got ${JSON.stringify(args.name)}`);
  if (!query) throw new Error("asset is not available here: no runbook database is connected");
  const a = await getAsset(query, args.name, keyText, who);
  if (a.secret) onSecret(secretStrings(a.value));
  return a.value;
}

/**
 * `asset_set(name, value, secret?)`: stores an asset from a runbook (a rotated credential). With
 * `secret` left out (null) an existing asset keeps its kind and a new one is a variable, so a
 * rotation never turns a secret into a variable by omission. A secret's texts go to `onSecret`
 * before the write: from then on the job masks them and seals them in its state.
 */
export async function assetSet(args: { name: Json; value: Json; secret: Json }, query: QueryFn | undefined, onSecret: (texts: string[]) => void, keyText?: string, who?: AssetActor): Promise<Json> {
  if (typeof args.name !== "string") throw new Error(`asset_set name must be a string, got ${JSON.stringify(args.name)}`);
  if (args.secret !== null && args.secret !== undefined && typeof args.secret !== "boolean") throw new Error(`asset_set secret must be true or false, got ${JSON.stringify(args.secret)}`);
  if (args.value === undefined || args.value === null) throw new Error(`asset_set ${args.name}: the value must not be null`);
  if (!query) throw new Error("asset_set is not available here: no runbook database is connected");
  checkAssetName(args.name);
  const secret = typeof args.secret === "boolean" ? args.secret : ((await assetIsSecret(query, args.name)) ?? false);
  if (secret) onSecret(secretStrings(args.value));
  await setAsset(query, args.name, args.value, secret, keyText, who);
  return null;
}
