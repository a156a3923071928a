// `runbook serve [--host 127.0.0.1] [--port 8080]`: the HTTP API (and the web console) until
// Ctrl-C or SIGTERM.
import { openDb } from "../runtime/db/connect.js";
import { Operator } from "../runtime/operator/index.js";
import { serve as startServer } from "../runtime/server/serve.js";
import { CliError } from "./errors.js";
import { printLine, printNote } from "./print.js";

export async function serve(opts: { host: string; port: string }): Promise<void> {
  if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) throw new CliError(`--port ${opts.port} is not a port number (0 to 65535)`, 2);
  const db = await openDb({ max: 6 });
  let served;
  try {
    served = await startServer(new Operator(db, "runbook serve"), { host: opts.host, port: Number(opts.port) });
  } catch (e) {
    await db.close();
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE") throw new CliError(`${opts.host}:${opts.port} is in use (another server?): pick another with --port`, 1);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new CliError(`cannot listen on ${opts.host}: no such address here`, 1);
    throw e;
  }
  printLine(`runbook serve: listening on ${served.url}`);
  printLine(`runbook serve: web console at ${served.url}/console/ (sign in with a token: runbook token create NAME --role viewer)`);
  if (!["127.0.0.1", "localhost", "::1"].includes(opts.host)) printNote(`listening on ${opts.host}: reachable from other machines (every API call still needs a token)`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await served.close();
  await db.close();
}
