// Errors the CLI reports as one line. Anything else that escapes a command is also printed as
// one line by cli/main.ts; these carry the exit code. A CliError is an OperatorError (the
// runtime's operator API reports those), so main.ts handles both alike.
import { OperatorError } from "../runtime/operator/errors.js";

/** A failure to report as `runbook: MESSAGE` with the given exit code (2 = bad usage). */
export class CliError extends OperatorError {
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message, exitCode === 2 ? "invalid" : "failed");
  }
}

/** The compiler's bad-usage value (compiler/index.ts `inputError`) as a CliError, exit 2. */
export function refuseInput(inputError: string | undefined): void {
  if (inputError !== undefined) throw new CliError(inputError, 2);
}

/** commander helper for repeatable options (`--param a=1 --param b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
