// Checks shared by the built-in activities: their arguments come from runbooks (checked at
// compile time, but `any` values get through), so each is checked again at run time.
import type { Json } from "../abi.js";

/**
 * A map of strings (exec's env, http's headers), or {} for null. `what` names the argument in
 * errors: `exec env`, `http header`.
 */
export function stringMap(v: Json | undefined, what: string, plural: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new Error(`${plural} must be a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw new Error(`${what} ${k} is ${JSON.stringify(val)}, not a string`);
    out[k] = val;
  }
  return out;
}

/** `30s`, `1500ms`: how a duration reads in an error message. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
