// The end of a soak: faults stop, every worker is back (unpaused, running, deployed), the idle
// transaction ends, and the operator finishes what is left: suspended jobs are resumed and
// waiting ones get their signal, until every job has ended, or none has ended for `stallMs`
// (a job still active then is lost). A slow machine makes it longer, never a false loss.
import { withTransaction } from "../../runtime/db/tx.js";
import { controlJob, sendSignal } from "../../runtime/sql/control.js";
import type { Soak } from "./context.js";
import { endIdleTransaction } from "./faults.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ACTOR = "operator chaos-settle";

export async function settle(soak: Soak, stallMs: number): Promise<void> {
  const { fleet, project } = soak;
  await endIdleTransaction();
  for (const n of fleet.names) {
    if (fleet.isPaused(n)) fleet.signal(n, "SIGCONT");
    if (!fleet.isUp(n)) await fleet.start(n, fleet.skewOf(n));
  }
  const deploy = await soak.gate.cli(["deploy", "--workers", fleet.names.join(",")]);
  if (deploy.code !== 0) soak.log(`settle: runbook deploy: ${deploy.stderr.trim()}`);
  let lastEnded = -1;
  let progressAt = Date.now();
  while (Date.now() - progressAt < stallMs) {
    try {
      const { rows } = await project.pool.query<{ id: string; status: string; wait_signal: string | null }>(
        "SELECT id, status, wait_signal FROM jobs WHERE status NOT IN ('completed', 'failed', 'stopped') ORDER BY id",
      );
      if (rows.length === 0) return;
      const ended = (await project.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE status IN ('completed', 'failed', 'stopped')")).rows[0].n;
      if (ended !== lastEnded) (lastEnded = ended), (progressAt = Date.now());
      for (const r of rows) {
        if (r.status === "suspended") await withTransaction(project.pool, (c) => controlJob(c, r.id, "resume", ACTOR)).catch(() => undefined);
        if (r.status === "waiting" && r.wait_signal === "go") await withTransaction(project.pool, (c) => sendSignal(c, r.id, "go", { settle: true })).catch(() => undefined);
      }
    } catch (e) {
      soak.log(`settle: ${(e as Error).message}`);
    }
    await sleep(1000);
  }
}
