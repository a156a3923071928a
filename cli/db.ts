// `runbook db stop|status`: the embedded PostgreSQL of the current folder (.runbook/).
import { localStatus, stopLocalDatabase } from "../runtime/db/local.js";
import { printJson, printLine } from "./print.js";

export async function stop(): Promise<void> {
  const status = localStatus();
  if (!status.dataDir) {
    printLine(`no embedded database under ${status.runbookDir}`);
    return;
  }
  const stopped = await stopLocalDatabase();
  printLine(stopped ? `stopped the embedded database (${status.dataDir})` : `the embedded database is not running (${status.dataDir})`);
}

export async function status(opts: { json?: boolean } = {}): Promise<void> {
  const s = localStatus();
  if (opts.json) {
    // The URL is left out: it holds the embedded cluster's password.
    const { url: _url, ...shown } = s;
    printJson({ databaseUrlSet: Boolean(process.env.DATABASE_URL), ...shown });
    return;
  }
  if (process.env.DATABASE_URL) printLine("DATABASE_URL is set: commands here use that server, not the embedded one");
  if (!s.dataDir) {
    printLine(`no embedded database under ${s.runbookDir} (it is created on first use)`);
    return;
  }
  printLine(`data: ${s.dataDir}`);
  const next = s.port === null ? "" : `, on port ${s.port} again if it is free`;
  printLine(s.running ? `running: pid ${s.running.pid}, 127.0.0.1:${s.running.port}` : `not running (started on first use${next})`);
}
