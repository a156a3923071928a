// `runbook asset set|list|get|delete|rekey`: the named variables and credentials read by
// `asset(name)` (runtime/builtins/asset.ts).
// - `set NAME [VALUE] [--secret]`: the value comes from the argument, or from stdin when it is
//   left out (so a secret need not appear in the shell history or the process list). A secret
//   is sealed with RUNBOOK_SECRET_KEY before it leaves this process.
// - `list [--json]`: names, kinds and times, never a value.
// - `get NAME [--json] [--reveal]`: a variable's value; a secret's only with --reveal (which
//   needs the key), so a stray `get` never prints a credential.
// - `delete NAME`.
// - `rekey`: re-seals every secret under a new key (runtime/rekey.ts, docs/activities.md).
import type { Json } from "../runtime/abi.js";
import { openDb } from "../runtime/db/connect.js";
import { checkAssetName, commandActor, getAsset, parseAssetText, secretKey, setAsset } from "../runtime/builtins/asset.js";
import type { QueryFn } from "../runtime/builtins/sql.js";
import { deleteAsset, listAssets, type AssetInfo } from "../runtime/sql/assets.js";
import { closest } from "../compiler/scope.js";
import { CliError } from "./errors.js";
import { printJson, printLine, printTable } from "./print.js";

export async function set(name: string, value: string | undefined, opts: { secret?: boolean }): Promise<void> {
  const secret = opts.secret === true;
  try {
    checkAssetName(name);
    if (secret) secretKey(); // a missing key fails before anything is read or stored
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const text = value ?? (await readStdin(name));
  if (text === "") throw new CliError(`the value of ${name} is empty`, 2);
  const db = await openDb();
  try {
    await setAsset((q, p) => db.pool.query(q, p), name, parseAssetText(text), secret);
  } catch (err) {
    throw new CliError((err as Error).message);
  } finally {
    await db.close();
  }
  printLine(`asset ${name} set${secret ? " (secret, encrypted)" : ""}`);
}

/**
 * `runbook asset rekey`: re-seals every secret asset and every job state holding sealed secrets
 * under RUNBOOK_SECRET_KEY, opening them with it or RUNBOOK_SECRET_KEY_PREVIOUS.
 */
export async function rekey(): Promise<void> {
  try {
    secretKey();
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const { rekey: rekeyAll } = await import("../runtime/rekey.js");
  const db = await openDb();
  try {
    const r = await rekeyAll(db.pool, commandActor("asset rekey").actor);
    printLine(`re-sealed ${r.assets} secret asset(s) and ${r.jobs} job state(s); ${r.current} already under the current key`);
    if (r.missed > 0) throw new CliError(`${r.missed} changed while being re-sealed: run runbook asset rekey again`, 1);
  } catch (err) {
    throw err instanceof CliError ? err : new CliError((err as Error).message);
  } finally {
    await db.close();
  }
}

/** All of stdin, minus one trailing newline (`echo VALUE |` adds it). */
async function readStdin(name: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`value of ${name} (end with Ctrl-D): `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

export async function list(opts: { json?: boolean }): Promise<void> {
  const assets = await withAssets(listAssets);
  if (opts.json) {
    printJson(assets.map(shown));
    return;
  }
  if (assets.length === 0) {
    printLine("no assets (set one with: runbook asset set NAME VALUE)");
    return;
  }
  printTable(["NAME", "KIND", "UPDATED"], assets.map((a) => [a.name, kind(a), a.updatedAt.toISOString()]));
}

export async function get(name: string, opts: { json?: boolean; reveal?: boolean }): Promise<void> {
  checkName(name);
  const { info, value } = await withAssets(async (query) => {
    const info = await mustFind(query, name);
    if (info.secret && !opts.reveal) {
      throw new CliError(`asset ${name} is a secret: add --reveal to print its value (it needs RUNBOOK_SECRET_KEY)`);
    }
    return { info, value: (await getAsset(query, name)).value };
  });
  if (opts.json) printJson({ ...shown(info), value });
  else printLine(typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

export async function remove(name: string): Promise<void> {
  checkName(name);
  const info = await withAssets(async (query) => {
    const info = await mustFind(query, name);
    await deleteAsset(query, name);
    return info;
  });
  printLine(`asset ${name} deleted (${kind(info)})`);
}

function kind(a: AssetInfo): "secret" | "variable" {
  return a.secret ? "secret" : "variable";
}

/** An asset as `list --json` and `get --json` show it. */
function shown(a: AssetInfo): Record<string, Json> {
  return { name: a.name, kind: kind(a), updated_at: a.updatedAt.toISOString() };
}

function checkName(name: string): void {
  try {
    checkAssetName(name);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

/** The asset's kind and time; a clear error (with the closest name) when it is not set. */
async function mustFind(query: QueryFn, name: string): Promise<AssetInfo> {
  const all = await listAssets(query);
  const found = all.find((a) => a.name === name);
  if (found) return found;
  const near = closest(name, all.map((a) => a.name));
  throw new CliError(`asset ${JSON.stringify(name)} is not set${near ? ` (did you mean ${near}?)` : all.length === 0 ? " (no assets are set)" : ""}`);
}

/** Runs `fn` on the runbook database; errors other than CliErrors become one line. */
async function withAssets<T>(fn: (query: QueryFn) => Promise<T>): Promise<T> {
  const db = await openDb({ max: 1 });
  try {
    return await fn((q, p) => db.pool.query(q, p));
  } catch (err) {
    throw err instanceof CliError ? err : new CliError((err as Error).message);
  } finally {
    await db.close();
  }
}
