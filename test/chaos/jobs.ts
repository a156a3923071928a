// The soak's runbooks as the checker sees them: for each, the output a job of given parameters
// writes when it completes, and the ledger positions followed by a checkpoint (a job that got
// past such a position has committed that checkpoint, so no later lease may redo work before
// it). Also the mix of jobs the load keeps queueing.
import type { Json } from "../../runtime/abi.js";
import type { Prng } from "./prng.js";

export interface Expectation {
  /** The complete output stream of a completed job. */
  output: string[];
  /** Ledger positions followed by a checkpoint (sleep, wait, suspend and await checkpoint too). */
  boundaries: number[];
}

const range = (n: number) => Array.from({ length: Math.max(0, n) }, (_, i) => i + 1);
const num = (v: Json | undefined, fallback: number): number => (typeof v === "number" ? v : fallback);

/** What a job of `runbook` with `params` must do, or null for a runbook the soak does not know. */
export function expectationOf(runbook: string, params: Record<string, Json>): Expectation | null {
  switch (runbook) {
    case "chaos_steps": {
      const n = num(params.n, 5);
      return { output: [...range(n).map((i) => `step ${i}`), "done"], boundaries: range(n) };
    }
    case "chaos_sleepy": {
      const n = num(params.n, 3);
      return { output: [...range(n).map((i) => `nap ${i}`), "rested"], boundaries: range(n) };
    }
    case "chaos_waiter":
      return { output: ["waiting", "woke", "reviewed"], boundaries: [1, 2] };
    case "chaos_parent": {
      const k = num(params.k, 3);
      return { output: [`started ${k}`, ...range(k).map((i) => `child ${i} done`), "children done"], boundaries: [1] };
    }
    case "chaos_fanout": {
      // The `parallel for` waits at a checkpoint of its own (the park that starts the branches).
      const k = num(params.k, 3);
      return { output: [`results ${JSON.stringify(range(k).map((i) => i * 10))}`], boundaries: [1] };
    }
    case "chaos_fanout__branch1":
      return { output: [], boundaries: [1] };
    case "chaos_flaky":
      return { output: ["succeeded", "done"], boundaries: [1] };
    case "chaos_keyed": {
      const n = num(params.n, 3);
      return { output: [...range(n).map((i) => `step ${i}`), "done"], boundaries: range(n) };
    }
    case "chaos_victim":
    case "chaos_doomed": {
      const n = num(params.n, 2);
      return { output: [...range(n).map((i) => `step ${i}`), "resumed"], boundaries: range(n) };
    }
    default:
      return null;
  }
}

/** `--param` flags for `runbook start` (durations written with their unit). */
export function cliParams(params: Record<string, Json>): string[] {
  return Object.entries(params).map(([k, v]) => `--param=${k}=${DURATIONS.has(k) ? `${v}ms` : v}`);
}
const DURATIONS = new Set(["nap", "patience"]);

/** A job the load queues: its runbook and parameters, drawn from the mix. */
export function randomJob(rng: Prng): { runbook: string; params: Record<string, Json> } {
  const r = rng.next();
  if (r < 0.35) return { runbook: "chaos_steps", params: { n: rng.int(2, 8), ms: rng.pick([10, 50, 150, 400]) } };
  if (r < 0.5) return { runbook: "chaos_sleepy", params: { n: rng.int(1, 4), nap: rng.pick([100, 300, 1000, 2500]) } };
  if (r < 0.65) return { runbook: "chaos_waiter", params: { patience: rng.pick([3000, 8000, 20000]) } };
  if (r < 0.72) return { runbook: "chaos_parent", params: { k: rng.int(1, 4) } };
  if (r < 0.80) return { runbook: "chaos_fanout", params: { k: rng.int(1, 6), limit: rng.int(1, 3), ms: rng.pick([10, 50, 200]) } };
  // Two hosts under `concurrency (key: host, limit: 2)`: enough jobs per host to queue behind it.
  if (r < 0.90) return { runbook: "chaos_keyed", params: { host: rng.pick(["h1", "h2"]), n: rng.int(1, 4), ms: rng.pick([10, 50, 150]) } };
  return { runbook: "chaos_flaky", params: { fails: rng.int(0, 3) } };
}
