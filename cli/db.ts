// `runbook db stop|status`: the embedded PostgreSQL of the current folder (.runbook/).
import { localStatus, stopLocalDatabase } from "../runtime/db/local.js";

export async function stop(): Promise<void> {
  const status = localStatus();
  if (!status.dataDir) {
    process.stdout.write(`no embedded database under ${status.runbookDir}\n`);
    return;
  }
  const stopped = await stopLocalDatabase();
  process.stdout.write(stopped ? `stopped the embedded database (${status.dataDir})\n` : `the embedded database is not running (${status.dataDir})\n`);
}

export async function status(opts: { json?: boolean } = {}): Promise<void> {
  const s = localStatus();
  if (opts.json) {
    // The URL is left out: it holds the embedded cluster's password.
    const { url: _url, ...shown } = s;
    process.stdout.write(`${JSON.stringify({ databaseUrlSet: Boolean(process.env.DATABASE_URL), ...shown }, null, 2)}\n`);
    return;
  }
  if (process.env.DATABASE_URL) process.stdout.write("DATABASE_URL is set: commands here use that server, not the embedded one\n");
  if (!s.dataDir) {
    process.stdout.write(`no embedded database under ${s.runbookDir} (it is created on first use)\n`);
    return;
  }
  process.stdout.write(`data: ${s.dataDir}\n`);
  const next = s.port === null ? "" : `, on port ${s.port} again if it is free`;
  process.stdout.write(s.running ? `running: pid ${s.running.pid}, 127.0.0.1:${s.running.port}\n` : `not running (started on first use${next})\n`);
}
