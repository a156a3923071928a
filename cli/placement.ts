// `--group` of `worker` and `deploy`, checked here (a bad value is a usage error, exit 2). `start
// --group/--priority` are checked by the operator API (runtime/operator/jobs.ts), with the same
// rules (runtime/abi.ts).
import { GROUP_NAME, GROUP_NAME_RULE } from "../runtime/abi.js";
import { DEFAULT_GROUP } from "../runtime/settings.js";
import { CliError } from "./errors.js";

/** A group name as given to --group (default `default`): a short word, refused clearly otherwise. */
export function checkGroup(group: string | undefined): string {
  if (group === undefined) return DEFAULT_GROUP;
  if (!GROUP_NAME.test(group)) throw new CliError(`--group ${JSON.stringify(group)} is not a group name (${GROUP_NAME_RULE})`, 2);
  return group;
}

/** `start --priority N` as a number for the operator API (which checks its range). */
export function priorityOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new CliError(`--priority ${text} is not a whole number`, 2);
  return Number(text);
}
