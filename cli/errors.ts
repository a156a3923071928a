// Errors the CLI reports as one line. Anything else that escapes a command is also printed as
// one line by cli/main.ts; these carry the exit code.

/** A failure to report as `runbook: MESSAGE` with the given exit code (2 = bad usage). */
export class CliError extends Error {
  constructor(
    message: string,
    public readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
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
