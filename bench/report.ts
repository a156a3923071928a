// Machine-readable results: `npm run bench -- --json FILE` sets RUNBOOK_BENCH_JSON to a scratch
// file, every benchmark appends one JSON line per workload to it (through `report`), and
// bench/run.ts gathers them into FILE as {"workloads": [...]}. Without the variable, `report`
// does nothing: the printed figures are the benchmark's output.
import * as fs from "node:fs";

export interface WorkloadResult {
  name: string;
  /** What `ours` and `peer` measure: "jobs/s", "ms", "x"... */
  unit: string;
  ours: number;
  /** The same workload on the peer in the same run (null: no peer for it). */
  peer: number | null;
  peerName: string | null;
  /** ours/peer for rates, peer/ours for times, so that above 1 is always better for us; null without a peer. */
  ratio: number | null;
  /** The goal the workload must meet, in words ("ratio >= 1.0", "<= 5000 ms"). */
  goal: string;
  met: boolean;
}

export function report(w: WorkloadResult): void {
  const file = process.env.RUNBOOK_BENCH_JSON;
  if (file) fs.appendFileSync(file, `${JSON.stringify(w)}\n`);
}

/** Median and the spread (min-max) of a sample, for every figure printed. */
export function summary(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}
