// The workloads every system of the peers benchmark runs, named once: what a job does in each.
// A "checkpoint" is each system's own way of making a job's progress durable: our `checkpoint`
// (the whole state, fenced by the lease epoch), a graphile-worker task's UPDATE of a state row,
// a DBOS step (its output recorded in the system database).

export type Workload = "noop" | "checkpoint1" | "steps10" | "latency" | "backlog";

/** Checkpoints per job. */
export function checkpointsOf(w: Workload): number {
  switch (w) {
    case "noop":
    case "latency":
    case "backlog":
      return 0;
    case "checkpoint1":
      return 1;
    case "steps10":
      return 10;
  }
}

/** About 2 KB of state: what a typical runbook keeps between checkpoints. */
export const STATE_2K = JSON.stringify({ host: "web-01.example.internal", items: Array.from({ length: 18 }, (_, i) => `item-${i}-${"x".repeat(90)}`) });

/** The line a peer worker process prints on stderr once it is ready to take jobs. */
export const READY = "peer worker ready";

/**
 * The wall clock in ms, to a hundredth of a millisecond (Date.now() has whole ones), the same in
 * every process of the machine: for the latency workload, read at the enqueue by the bench and at
 * the job's start by each system. (Our job's module is generated text; it writes the same
 * expression, bench/peers.ts.)
 */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();
