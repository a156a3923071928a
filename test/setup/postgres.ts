// vitest globalSetup: ONE PostgreSQL for the whole test run. With DATABASE_URL set, that server
// is used. Otherwise the first test file that needs a database starts an embedded cluster in a
// folder made here under /var/tmp (every parent traversable by the `postgres` user when we are
// root), with the same code as a project's own database (runtime/db/local.ts: lock file, pid
// checks), so runs that need no database start none. Test files get their own fresh database
// through test/setup/db.ts. Teardown stops the cluster and removes the folder; a watchdog
// process does the same if this vitest process is killed before its teardown runs.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import type { GlobalSetupContext } from "vitest/node";
import { localStatus, stopLocalDatabase } from "../../runtime/db/local.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the test server, when DATABASE_URL gives one. */
    pgAdminUrl: string | null;
    /** Otherwise: the folder whose embedded cluster the test files share. */
    pgHome: string;
  }
}

export default async function setup({ provide }: GlobalSetupContext): Promise<() => Promise<void>> {
  const home = fs.mkdtempSync("/var/tmp/runbook-test-");
  fs.chmodSync(home, 0o755);
  provide("pgAdminUrl", process.env.DATABASE_URL ?? null);
  provide("pgHome", home);
  const watchdog = spawn(
    "sh",
    ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; pid=$(head -1 "$1/.runbook/pgdata/postmaster.pid" 2>/dev/null) && kill -INT "$pid"; sleep 3; rm -rf "$1"`, "watchdog", home],
    { detached: true, stdio: "ignore" },
  );
  watchdog.unref();
  return async () => {
    if (localStatus(home).running) await stopLocalDatabase(home).catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  };
}
