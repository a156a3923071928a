// In-memory cost of one suspension round trip: a job whose frame holds 50 locals (numbers,
// strings, small lists and maps) suspends at a checkpoint, its state goes through
// encodeJson/decodeJson (runtime/json-text.ts: what a worker writes and a fresh one reads), and the driver
// resumes it to the next checkpoint (one step, dead-local pruning). Goal: median under 50 µs.
//
// Run: npx tsx bench/suspend.ts
import type { CompiledRunbook, Json, JobState } from "../runtime/abi.js";
import { initialState, resume, type DriverContext } from "../runtime/driver.js";
import { decodeJson, encodeJson } from "../runtime/json-text.js";
import { programOf } from "../runtime/memory.js";

const LOCALS = 50;
const names = Array.from({ length: LOCALS }, (_, i) => `v${i}`);

function localValue(i: number): Json {
  switch (i % 4) {
    case 0:
      return i * 1.5;
    case 1:
      return `host-${i}.example.internal`;
    case 2:
      return [i, i + 1, `item-${i}`];
    default:
      return { id: `vm-${i}`, region: "eu-west-1", ready: true, tags: ["web", "prod"] };
  }
}

// A loop body that touches one local per round and checkpoints, as emitted code would.
const looper: CompiledRunbook = {
  name: "looper",
  file: "looper.runbook",
  params: [],
  returns: null,
  canSuspend: true,
  calls: [],
  uses: {},
  live: { 1: [...names, "n"] },
  positions: { 0: [1, 1], 1: [3, 3] },
  async step(frame, ctx) {
    const L = frame.locals;
    if (frame.pc === 0) {
      names.forEach((n, i) => (L[n] = localValue(i)));
      L.n = 0;
      frame.pc = 1;
      return { kind: "checkpoint", label: "start" };
    }
    L.n = ctx.ops.add(L.n, 1);
    L.v0 = ctx.ops.add(L.v0, 1);
    L.tmp = "dead at the checkpoint";
    return { kind: "checkpoint", label: "loop" };
  },
};

const program = programOf([looper]);
const ctx: DriverContext = { emit: () => {}, activity: async () => null, start: async () => "" };

async function main(): Promise<void> {
  let state: JobState = (await resume(initialState("looper", {}), program, ctx)).state;
  const bytes = JSON.stringify(state).length;
  const roundTrip = async () => {
    const text = encodeJson(state, "state");
    state = decodeJson(text) as unknown as JobState;
    state = (await resume(state, program, ctx)).state;
  };
  for (let i = 0; i < 20_000; i++) await roundTrip(); // warm up the JIT

  // The JSON round trip alone, measured in the same run, so a busy machine shows as a busy
  // machine rather than as a slow driver.
  const jsonOnly = async () => {
    state = decodeJson(encodeJson(state, "state")) as unknown as JobState;
  };
  const trip = await measure(roundTrip);
  const json = await measure(jsonOnly);
  console.log(`suspension round trip, ${LOCALS} locals (${bytes} bytes of state JSON):`);
  console.log(`  median ${trip.median.toFixed(2)} µs, p90 ${trip.p90.toFixed(2)} µs per round trip (goal < 50 µs) ${trip.median < 50 ? "OK" : "MISSED"}`);
  console.log(`  of which encodeJson + decodeJson alone: median ${json.median.toFixed(2)} µs; the driver adds ${(trip.median - json.median).toFixed(2)} µs`);
}

/** Median and p90 of 200 batches of 1,000 calls, in µs per call. */
async function measure(f: () => Promise<void>): Promise<{ median: number; p90: number }> {
  const BATCH = 1_000;
  const samples: number[] = [];
  for (let s = 0; s < 200; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) await f();
    samples.push(Number(process.hrtime.bigint() - t0) / 1_000 / BATCH);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], p90: samples[Math.floor(samples.length * 0.9)] };
}

await main();
