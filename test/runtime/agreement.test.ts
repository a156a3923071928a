// The worker and the in-memory executor answer suspension points alike (both through
// runtime/protocol.ts): the same runbooks, run on a real PostgreSQL worker and in memory, write
// the same output and end the same way. Sleeps, a wait whose signal is already in the mailbox, a
// wait that times out, awaits of a completed and of a failed child, a checkpoint, and a suspend
// statement (resumed by an operator on the worker; at once in memory).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Json } from "../../runtime/abi.js";
import type { Db } from "../../runtime/db/connect.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { loadRunbook } from "../../runtime/load.js";
import { programOf, runInMemory, type Ending, type Signal } from "../../runtime/memory.js";
import { controlJob, sendSignal } from "../../runtime/sql/control.js";
import { streamsAfter } from "../../runtime/sql/inspect.js";
import { Worker } from "../../runtime/worker.js";
import { freshDb } from "../setup/db.js";
import { enqueue, job, publish, waitStatus } from "./helpers.js";
import { moduleText, type HandModule } from "./modules.js";

const modules: HandModule[] = [
  {
    name: "sleepy",
    body: `switch (frame.pc) {
      case 0: ctx.emit("output", "before"); frame.pc = 1; return { kind: "sleep", ms: 30 };
      case 1: ctx.emit("output", "after"); frame.pc = 2; return { kind: "checkpoint", label: "slept" };
      default: return { kind: "return", value: "slept" };
    }`,
  },
  {
    name: "waits",
    body: `switch (frame.pc) {
      case 0: frame.pc = 1; return { kind: "wait", signal: "go", timeoutMs: 60000 };
      case 1: ctx.emit("output", { got: input.value }); frame.pc = 2; return { kind: "wait", signal: "never", timeoutMs: 30 };
      default: ctx.emit("output", { got: input.value }); return { kind: "return", value: "waited" };
    }`,
  },
  {
    name: "awaits",
    calls: ["doubler"],
    body: `switch (frame.pc) {
      case 0: L.ok = await ctx.start("doubler", { n: 21 }); frame.pc = 1; return { kind: "await", job: L.ok };
      case 1: ctx.emit("output", input.value); L.bad = await ctx.start("doubler", { n: -1 }); frame.pc = 2; return { kind: "await", job: L.bad };
      default:
        ctx.emit("output", input.error ? "child failed: " + input.error.message : "no error?");
        return { kind: "throw", error: input.error };
    }`,
  },
  {
    name: "doubler",
    body: `if (L.n < 0) return { kind: "throw", error: { message: "negative", runbook: "doubler", file: "doubler.runbook", line: 2, column: 3, data: { n: L.n } } };
      return { kind: "return", value: L.n * 2 };`,
  },
  {
    name: "suspends",
    body: `switch (frame.pc) {
      case 0: ctx.emit("output", "pausing"); frame.pc = 1; return { kind: "suspend", reason: "look first" };
      default: ctx.emit("output", "resumed"); return { kind: "return", value: "resumed" };
    }`,
  },
];

const cases: { runbook: string; signals: Signal[] }[] = [
  { runbook: "sleepy", signals: [] },
  { runbook: "waits", signals: [{ name: "go", value: { approved: true } }] },
  { runbook: "awaits", signals: [] },
  { runbook: "suspends", signals: [] },
];

let db: Db;
let versions: Map<string, string>;
let worker: Worker;

beforeAll(async () => {
  db = await freshDb();
  versions = await publish(db, modules);
  worker = await Worker.start(db, { name: "w-agree", concurrency: 4, heartbeatMs: 200, timeoutMs: 2_000, pollMs: 100 });
});

afterAll(async () => {
  await worker?.stop();
  await db?.close();
});

async function inMemory(runbook: string, signals: Signal[]): Promise<{ output: Json[]; ending: Ending }> {
  const program = programOf(await Promise.all(modules.map((m) => loadRunbook(moduleText(m).js, m.name))));
  const run = await runInMemory(program, runbook, {}, { mode: "straight", signals });
  return { output: run.streams.filter((r) => r.stream === "output").map((r) => r.value), ending: run.ending };
}

async function onWorker(runbook: string, signals: Signal[]): Promise<{ output: Json[]; ending: Ending }> {
  // The signals are in the mailbox before any worker can see the job.
  const id = randomUUID();
  await enqueue(db, runbook, versions.get(runbook)!, {}, id, async (c) => {
    for (const s of signals) await sendSignal(c, id, s.name, s.value);
  });
  if (runbook === "suspends") {
    await waitStatus(db, id, "suspended");
    await withTransaction(db.pool, (c) => controlJob(c, id, "resume", "test operator"));
  }
  const end = await waitStatus(db, id, ["completed", "failed", "stopped"]);
  const ending: Ending = end.status === "completed" ? { kind: "completed", result: end.result as Json } : { kind: "failed", error: end.error! };
  expect((await job(db, id)).status).toBe(end.status);
  const output = (await streamsAfter(db.pool, id)).filter((r) => r.stream === "output").map((r) => r.value);
  return { output, ending };
}

describe("the worker and the in-memory executor agree", () => {
  it.each(cases)("$runbook", async ({ runbook, signals }) => {
    const memory = await inMemory(runbook, signals);
    const worked = await onWorker(runbook, signals);
    expect(worked).toEqual(memory);
  });

  it("the runs themselves are what the runbooks say", async () => {
    expect(await inMemory("waits", [{ name: "go", value: 7 }])).toEqual({ output: [{ got: 7 }, { got: null }], ending: { kind: "completed", result: "waited" } });
    const awaited = await inMemory("awaits", []);
    expect(awaited.output).toEqual([42, "child failed: negative"]);
    expect(awaited.ending).toMatchObject({ kind: "failed", error: { message: "negative", data: { n: -1 } } });
  });
});
