// `runbook asset set NAME [VALUE] [--secret]`: stores a named variable or credential for
// `asset(name)`. The value comes from the argument, or from stdin when it is left out (so a
// secret need not appear in the shell history or the process list). A secret is sealed with
// RUNBOOK_SECRET_KEY before it leaves this process (runtime/builtins/asset.ts).
import { openDb } from "../runtime/db/connect.js";
import { checkAssetName, parseAssetText, secretKey, setAsset } from "../runtime/builtins/asset.js";
import { CliError } from "./errors.js";

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
  process.stdout.write(`asset ${name} set${secret ? " (secret, encrypted)" : ""}\n`);
}

/** All of stdin, minus one trailing newline (`echo VALUE |` adds it). */
async function readStdin(name: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`value of ${name} (end with Ctrl-D): `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}
