// The command-line options that say where and in what order a job runs: `--group` (of `worker`,
// `start`, `deploy`) and `--priority` (of `start`). A bad value is a usage error (exit 2).
import { DEFAULT_GROUP } from "../runtime/settings.js";
import { CliError } from "./errors.js";

/** A group name as given to --group (default `default`): a short word, refused clearly otherwise. */
export function checkGroup(group: string | undefined): string {
  if (group === undefined) return DEFAULT_GROUP;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(group)) {
    throw new CliError(`--group ${JSON.stringify(group)} is not a group name (letters, digits, _ . -; at most 63 characters)`, 2);
  }
  return group;
}

/** `--group` and `--priority` of `start` (undefined: the runbook's declared group; priority 0). */
export function placementOptions(opts: { group?: string; priority?: string }): { group?: string; priority?: number } {
  const group = opts.group === undefined ? undefined : checkGroup(opts.group);
  if (opts.priority === undefined) return { group };
  const priority = Number(opts.priority);
  if (!/^-?\d+$/.test(opts.priority) || !Number.isSafeInteger(priority) || Math.abs(priority) > 1_000_000) {
    throw new CliError(`--priority ${opts.priority} is not a whole number (from -1000000 to 1000000)`, 2);
  }
  return { group, priority };
}
