// A reader that stops early (`runbook jobs | head -4`) closes our stdout; the next write then fails
// with EPIPE. Node ignores SIGPIPE, so without this the failure surfaces as an unhandled 'error'
// event with a stack trace. We end quietly instead, as a C program killed by SIGPIPE would:
// exit code 128 + 13. Any other stream error is still thrown.

/** Exit code of a process whose output pipe closed under it (killed by SIGPIPE, 13). */
export const CLOSED_PIPE_EXIT = 141;

export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(CLOSED_PIPE_EXIT);
    throw err;
  });
}
