// Watching a job does not slow the fleet down (issue 15): a `runbook worker` process runs batches
// of one-checkpoint jobs while one chatty job writes a record every ~20 ms, first with nobody
// following it, then with 50 server-sent-event followers of its output through `runbook serve`'s
// API (the server and the followers in this process, as a console tab each); the phases
// alternate, and the worker's throughput with followers must stay within 10% of without.
// Why it can: one poller per followed job, however many follow it (runtime/server/feeds.ts).
//
// Options: --jobs N jobs per phase (default 3000), --rounds N pairs of phases (default 3),
// --followers N (default 50).
import { randomUUID } from "node:crypto";
import { Operator } from "../runtime/operator/index.js";
import { bundleProject, publishBundles } from "../runtime/publish.js";
import { serve } from "../runtime/server/serve.js";
import { insertJobs } from "../runtime/sql/enqueue.js";
import { withBenchDatabase } from "./db.js";
import { option } from "./options.js";
import { report } from "./report.js";
import { kill, loadAverage, median, module, startWorker, until } from "./workers.js";

const JOBS = option("jobs", 3000);
const ROUNDS = option("rounds", 3);
const FOLLOWERS = option("followers", 50);

const ONE_CHECKPOINT = module("bench_checkpoint", `if (frame.pc === 0) { frame.pc = 1; return { kind: "checkpoint", label: "half" }; } return { kind: "return", value: null };`);
// A record, then a checkpoint (which commits it), about every 20 ms, until stopped.
const CHATTY = module(
  "bench_chatty",
  `L.n = (L.n ?? 0) + 1; ctx.emit("output", "line " + L.n + " " + "x".repeat(80));
   await new Promise((r) => setTimeout(r, 20));
   return { kind: "checkpoint", label: null };`,
);

interface Follower {
  records: number;
  done: Promise<void>;
  abort: AbortController;
}

function follow(url: string, token: string): Follower {
  const abort = new AbortController();
  const f: Follower = { records: 0, abort, done: Promise.resolve() };
  f.done = (async () => {
    const r = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    if (r.status !== 200) throw new Error(`follow answered ${r.status}`);
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        f.records += value.split("\nevent: record\n").length - 1 + (value.startsWith("event: record\n") ? 1 : 0);
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
  })();
  return f;
}

await withBenchDatabase("runbook_bench_followers", 6, async ({ db, url }) => {
  const op = new Operator(db, "bench");
  const [checkpointed, chatty] = await publishBundles(db, await bundleProject([ONE_CHECKPOINT, CHATTY]));
  const { token } = await op.createToken("bench", "viewer");
  const server = await serve(op, { port: 0, log: (l) => console.error(l) });
  const worker = await startWorker(url, "bench-w", {}, ["--concurrency", "10"]);
  try {
    const chattyId = "chatty";
    await insertJobs(db.pool, [{ id: chattyId, runbook: "bench_chatty", version: chatty.hash, params: {} }], "bench");
    await until("the chatty job to write", async () => (await db.pool.query("SELECT stream_seq FROM jobs WHERE id = $1", [chattyId])).rows[0].stream_seq > 5);

    /** Seconds from the first job queued to the last one finished, by the database's clock. */
    async function phase(): Promise<number> {
      const tag = randomUUID();
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i += 1000) {
        const batch = Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ id: `${tag}-${i + k}`, runbook: "bench_checkpoint", version: checkpointed.hash, params: {} }));
        ids.push(...batch.map((b) => b.id));
        await insertJobs(db.pool, batch, "bench");
      }
      await until("the phase's jobs to complete", async () => (await db.pool.query("SELECT count(*)::int AS n FROM jobs WHERE id LIKE $1 AND status = 'completed'", [`${tag}-%`])).rows[0].n === JOBS, 600_000, 100);
      const { rows } = await db.pool.query<{ s: number }>("SELECT extract(epoch FROM max(finished_at) - min(created_at))::float8 AS s FROM jobs WHERE id LIKE $1", [`${tag}-%`]);
      return rows[0].s;
    }

    const without: number[] = [];
    const withFollowers: number[] = [];
    let received = 0;
    await phase(); // warm-up: caches, the worker's compiled module, autovacuum settling
    for (let round = 0; round < ROUNDS; round++) {
      without.push(JOBS / (await phase()));
      const followers = Array.from({ length: FOLLOWERS }, () => follow(`${server.url}/api/jobs/${chattyId}/output?follow=1`, token));
      // Every follower has read the backlog and follows live before the phase starts.
      const seqNow = (await db.pool.query("SELECT stream_seq FROM jobs WHERE id = $1", [chattyId])).rows[0].stream_seq as number;
      await until("the followers to catch up", async () => followers.every((f) => f.records >= seqNow), 120_000, 50);
      const before = followers.map((f) => f.records);
      withFollowers.push(JOBS / (await phase()));
      const during = followers.map((f, i) => f.records - before[i]);
      if (Math.min(...during) === 0) throw new Error("a follower received nothing during the phase");
      received += during.reduce((a, b) => a + b, 0);
      for (const f of followers) f.abort.abort();
      await Promise.allSettled(followers.map((f) => f.done));
      console.log(`round ${round + 1}: ${Math.round(without.at(-1)!)} jobs/s without followers, ${Math.round(withFollowers.at(-1)!)} jobs/s with ${FOLLOWERS} (they received ${during.reduce((a, b) => a + b, 0)} records in the phase)`);
    }
    await op.control("stop", chattyId);
    const a = median(without);
    const b = median(withFollowers);
    const ratio = b / a;
    console.log(`worker throughput, ${JOBS} one-checkpoint jobs per phase, ${ROUNDS} rounds (median):`);
    console.log(`  without followers      ${Math.round(a)} jobs/s`);
    console.log(`  with ${FOLLOWERS} SSE followers  ${Math.round(b)} jobs/s  (${received} records delivered)`);
    console.log(`  ratio                  ${ratio.toFixed(3)}   goal >= 0.90   load average ${loadAverage()}`);
    report({ name: `worker throughput with ${FOLLOWERS} followers of one job`, unit: "x", ours: ratio, peer: null, peerName: null, ratio: null, goal: "ratio >= 0.90", met: ratio >= 0.9 });
    if (ratio < 0.9) process.exitCode = 1;
  } finally {
    await kill(worker, "SIGTERM");
    await server.close();
  }
});
