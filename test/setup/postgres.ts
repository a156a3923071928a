// vitest globalSetup: ONE PostgreSQL for the whole test run. With DATABASE_URL set, that server
// is used; otherwise an embedded cluster (runtime/db/embedded.ts) is created in a temporary
// folder under /var/tmp (every parent traversable by the `postgres` user when we are root) and
// removed at teardown. Test files get their own fresh database through test/setup/db.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import type { GlobalSetupContext } from "vitest/node";
import { binaries, clusterUrl, initCluster, startCluster, stopCluster } from "../../runtime/db/embedded.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the test server (its `postgres` database). */
    pgAdminUrl: string;
  }
}

export default async function setup({ provide }: GlobalSetupContext): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    provide("pgAdminUrl", process.env.DATABASE_URL);
    return async () => undefined;
  }
  const home = fs.mkdtempSync("/var/tmp/runbook-test-");
  fs.chmodSync(home, 0o755);
  const info = { dataDir: path.join(home, "pgdata"), password: "test" };
  const bins = await binaries();
  await initCluster(info, bins);
  const port = await startCluster(info, bins);
  provide("pgAdminUrl", clusterUrl(info, port));
  return async () => {
    await stopCluster(info.dataDir, bins).catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  };
}
