// The soak's printed report: fault counts by kind, jobs, the ledger, failover times, each
// violation kind with examples, and one summary line last.
import type { Settings } from "./context.js";
import type { SoakResult } from "./soak.js";

export function formatReport(settings: Settings, r: SoakResult): string {
  const { report } = r;
  const out: string[] = [];
  out.push("faults and operator actions:");
  const width = Math.max(...[...report.faults.keys()].map((k) => k.length), 10);
  for (const [kind, n] of [...report.faults].sort((a, b) => a[0].localeCompare(b[0]))) out.push(`  ${kind.padEnd(width)}  ${n}`);
  for (const k of r.skipped) {
    const [kind, why] = k.split(": ");
    out.push(`  ${kind.padEnd(width)}  skipped: ${why}`);
  }
  if (r.missing.length) out.push(`NOT INJECTED: ${r.missing.join(", ")}`);
  const statuses = [...report.jobs.byStatus].sort().map(([s, n]) => `${n} ${s}`).join(", ");
  out.push(`jobs: ${report.jobs.all} (${statuses}); ${report.jobs.hostile} hostile edits`);
  out.push(`parallel for: ${report.branches.runs} runs, ${report.branches.jobs} branch jobs`);
  out.push(`ledger: ${report.ledgerRows} side effects recorded, ${report.staleRefused} calls of a lost lease refused by the epoch fence`);
  const f = report.failoverMs;
  out.push(
    f.length
      ? `failover (kill -9 or SIGSTOP of a worker to its job resumed elsewhere): ${f.length} jobs, median ${secs(f[Math.floor((f.length - 1) / 2)])}, max ${secs(f[f.length - 1])}`
      : "failover: no job was resumed after a kill or a pause",
  );
  const k = report.keyed;
  out.push(`concurrency keys: ${k.jobs} jobs under ${k.keys} keys, at most ${k.peak} of one key running, sleeping or waiting at once`);
  const ticks = r.evidence.ticks ?? [];
  const outcomes = [...new Set(ticks.map((t) => t.outcome))].sort().map((o) => `${ticks.filter((t) => t.outcome === o).length} ${o}`);
  out.push(`schedules: ${(r.evidence.schedules ?? []).length}, ${ticks.length} ticks recorded${outcomes.length ? ` (${outcomes.join(", ")})` : ""}`);
  out.push("violations:");
  for (const [kind, list] of report.violations) {
    out.push(`  ${kind}: ${list.length}`);
    for (const v of list.slice(0, 8)) out.push(`    ${v}`);
    if (list.length > 8) out.push(`    ... and ${list.length - 8} more`);
  }
  const faults = [...report.faults.values()].reduce((a, b) => a + b, 0);
  out.push(
    `chaos: seed ${settings.seed}, ${secs(settings.durationMs)}, ${settings.workers} workers: ${report.jobs.all} jobs, ${faults} faults of ${report.faults.size} kinds, ` +
      `${report.total} violation${report.total === 1 ? "" : "s"}${r.missing.length ? `, ${r.missing.length} kinds not injected` : ""}`,
  );
  return `${out.join("\n")}\n`;
}

function secs(ms: number): string {
  return ms >= 120_000 ? `${(ms / 60_000).toFixed(ms % 60_000 ? 1 : 0)}m` : `${(ms / 1000).toFixed(ms % 1000 ? 2 : 0)}s`;
}
