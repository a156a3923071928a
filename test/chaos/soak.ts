// One soak: a temp project and its database, `workers` real worker processes, and three lanes
// running at once until the duration is over and every fault and operator kind has run at least
// once: the load (load.ts), the infrastructure faults (faults.ts) and the operator (operator.ts).
// Then it settles (settle.ts) and the checker reads the evidence (checker.ts).
import { check, type Report } from "./checker.js";
import { CliGate, type Settings, type Soak } from "./context.js";
import { readEvidence, type Evidence } from "./evidence.js";
import { faultKinds, faultLane, impossibleKinds } from "./faults.js";
import { Fleet } from "./fleet.js";
import { loadLane } from "./load.js";
import { operatorKinds, operatorLane } from "./operator.js";
import { Prng } from "./prng.js";
import { Project } from "./project.js";
import { settle } from "./settle.js";

export interface SoakResult {
  report: Report;
  evidence: Evidence;
  /** Kinds the soak was to inject and did not (the soak itself failed). */
  missing: string[];
  /** Kinds that cannot be injected in this setup (a database restart on DATABASE_URL). */
  skipped: string[];
  project: string;
}

export async function runSoak(settings: Settings, log: (line: string) => void, opts: { keep?: boolean } = {}): Promise<SoakResult> {
  const rng = new Prng(settings.seed);
  const [faultRng, operatorRng, loadRng] = [rng.fork(), rng.fork(), rng.fork()];
  const project = await Project.create();
  log(`project ${project.dir}, database ${project.embedded ? `embedded on port ${project.embedded.port}` : "on DATABASE_URL's server"}`);
  const names = Array.from({ length: settings.workers }, (_, i) => `chaos-w${i + 1}`);
  const fleet = new Fleet(project, names, settings, log);
  // Ctrl-C (or a SIGTERM) during a soak: stop the workers and the database, remove the folder.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: stopping the workers and the database`);
    void fleet
      .stopAll(3_000)
      .catch(() => undefined)
      .then(() => (opts.keep ? undefined : project.destroy()))
      .finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const soak: Soak = { settings, project, fleet, ending: false, faults: [], hostile: [], unclear: [], reserved: new Set(), gate: new CliGate(project), log };
  try {
    await Promise.all(names.map((n) => fleet.start(n)));
    log(`${names.length} workers started`);
    const until = Date.now() + settings.durationMs;
    let loading = true;
    const load = loadLane(soak, loadRng, () => loading);
    const progress = setInterval(() => void progressLine(soak).then(log, () => undefined), 60_000);
    await Promise.all([faultLane(soak, faultRng, until), operatorLane(soak, operatorRng, until)]);
    clearInterval(progress);
    loading = false;
    await load;
    // The schedule's last ticks: its jobs then settle like the rest (ticks.ts checks them all).
    const paused = await soak.gate.cli(["schedule", "pause", "chaos_tick"]);
    if (paused.code !== 0) log(`runbook schedule pause chaos_tick: ${paused.stderr.trim()}`);
    log(`faults over after ${soak.faults.length} injections; settling`);
    await settle(soak, Math.max(60_000, settings.timeoutMs * 20));
    const evidence: Evidence = { ...(await readEvidence(project.pool)), faults: soak.faults, hostile: soak.hostile, crashes: fleet.crashes, unclear: soak.unclear };
    await fleet.stopAll();
    const report = check(evidence);
    const wanted = [...faultKinds(soak), ...operatorKinds(soak)];
    const missing = wanted.filter((k) => !report.faults.get(k));
    const skipped = [...impossibleKinds(soak)].map(([kind, why]) => `${kind}: ${why}`);
    return { report, evidence, missing, skipped, project: project.dir };
  } finally {
    await fleet.stopAll(3_000).catch(() => undefined);
    if (!opts.keep) await project.destroy().catch((e) => log(`cleanup: ${(e as Error).message}`));
  }
}

/** Once a minute in a long soak: how far it has come. */
async function progressLine(soak: Soak): Promise<string> {
  const { rows } = await soak.project.pool.query<{ ended: number; active: number }>(
    "SELECT count(*) FILTER (WHERE status IN ('completed', 'failed', 'stopped'))::int AS ended, count(*) FILTER (WHERE status NOT IN ('completed', 'failed', 'stopped'))::int AS active FROM jobs",
  );
  return `${soak.faults.length} faults and operator actions so far; jobs: ${rows[0].ended} ended, ${rows[0].active} active`;
}
