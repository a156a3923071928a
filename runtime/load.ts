// Loading compiled runbook code (the `js` text of a CompiledModule, or a version read from the
// database) into a CompiledRunbook.
//
// The text is imported as a `data:` URL, so no file is written and a worker can run any
// published version. Node keeps every imported module for the life of the process, so modules
// are cached by a hash of their text: the same version is imported once however many jobs use it.
import { createHash } from "node:crypto";
import type { CompiledRunbook } from "./abi.js";

/** A compiled module that cannot be loaded or does not export a usable `runbook`. */
export class ModuleLoadError extends Error {}

const cache = new Map<string, Promise<CompiledRunbook>>();

/** The hash that identifies a module's code (sha256, hex). */
export function codeHash(js: string): string {
  return createHash("sha256").update(js).digest("hex");
}

/**
 * Imports `js` and returns its `runbook` export. `what` names the module in errors (e.g. the
 * runbook's name and version). Throws a ModuleLoadError with a one-line message.
 */
export function loadRunbook(js: string, what = "compiled runbook"): Promise<CompiledRunbook> {
  const key = codeHash(js);
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = importRunbook(js, what);
    cache.set(key, loaded);
    // A failure is not cached: the next attempt reports it again rather than a stale promise.
    loaded.catch(() => cache.delete(key));
  }
  return loaded;
}

async function importRunbook(js: string, what: string): Promise<CompiledRunbook> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`data:text/javascript;base64,${Buffer.from(js).toString("base64")}`)) as Record<string, unknown>;
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new ModuleLoadError(`${what} failed to load: ${message}`);
  }
  const problem = checkRunbook(mod.runbook);
  if (problem) throw new ModuleLoadError(`${what} ${problem}`);
  return mod.runbook as CompiledRunbook;
}

/** What is wrong with a module's `runbook` export, or null when it looks like a CompiledRunbook. */
function checkRunbook(r: unknown): string | null {
  if (r === undefined) return "does not export `runbook`";
  if (typeof r !== "object" || r === null) return "exports a `runbook` that is not an object";
  const x = r as Record<string, unknown>;
  if (typeof x.name !== "string") return "exports a `runbook` without a name";
  if (typeof x.step !== "function") return `exports runbook ${x.name} without a step function`;
  for (const table of ["live", "positions"] as const) {
    if (typeof x[table] !== "object" || x[table] === null) return `exports runbook ${x.name} without its ${table} table`;
  }
  if (!Array.isArray(x.params)) return `exports runbook ${x.name} without its parameters`;
  return null;
}
