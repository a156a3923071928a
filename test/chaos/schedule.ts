// The schedule both lanes follow (faults.ts, operator.ts): a first round of every kind once, in
// an order drawn from the seed, however long it takes; then kinds drawn at random until the
// time is up; then each kind of the first round that never registered (its injection failed,
// say a command during a database restart, or found no job to act on) is tried again. Every
// kind at least once is a property of the schedule, not of the machine's speed.
import type { Soak } from "./context.js";
import type { Prng } from "./prng.js";

export interface Lane<K extends string> {
  kinds: readonly K[];
  /** Pause between two injections, in ms. */
  gap: [number, number];
  /** Injects one kind; `settled` asks it not to leave work running beside the lane. */
  run(kind: K, settled: boolean): Promise<void>;
  /** Waits for what `run` left running beside the lane. */
  idle?(): Promise<void>;
  /** How many times the first round is retried per kind at most. */
  retries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSchedule<K extends string>(soak: Soak, rng: Prng, until: number, lane: Lane<K>): Promise<void> {
  const first = rng.shuffle(lane.kinds);
  const attempt = (kind: K, settled: boolean) => lane.run(kind, settled).catch((e) => soak.log(`${kind} could not be injected: ${(e as Error).message}`));
  for (let i = 0; i < first.length || Date.now() < until; i++) {
    if (lane.kinds.length === 0) {
      await sleep(500);
      continue;
    }
    await attempt(i < first.length ? first[i] : rng.pick(lane.kinds), false);
    await sleep(rng.int(lane.gap[0], lane.gap[1]));
  }
  await lane.idle?.();
  for (const kind of first) {
    for (let n = 0; n < lane.retries && !soak.faults.some((f) => f.kind === kind); n++) {
      await attempt(kind, true);
      await sleep(500);
    }
  }
}
