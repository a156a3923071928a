// GET /api/jobs/:id/output?follow=1: the job's records as server-sent events, as they are
// committed, from the shared feed of the job (feeds.ts).
//   event: record  id: SEQ  data: {"seq","stream","value","at"}
//   event: status           data: {"id","status",...}   (when the job's status changes)
//   event: end              data: the job's final row, then the stream closes
//   event: error            data: {"error"}
// An EventSource that reconnects sends Last-Event-ID, and continues after that record.
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { JobRow } from "../rows.js";
import type { Env } from "./auth.js";
import type { FeedEvent, Feeds } from "./feeds.js";

/** Comment lines this often keep proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

function jobData(job: JobRow): string {
  const { state: _, lease_epoch: __, ...view } = job;
  return JSON.stringify(view);
}

export function followOutput(c: Context<Env>, feeds: Feeds, id: string, after: number): Response {
  return streamSSE(c, async (stream) => {
    const queue: FeedEvent[] = [];
    let wake: (() => void) | null = null;
    const sub = feeds.subscribe(id, after, (e) => {
      queue.push(e);
      wake?.();
    });
    let aborted = false;
    stream.onAbort(() => {
      aborted = true;
      wake?.();
    });
    try {
      for (;;) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, KEEPALIVE_MS);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          wake = null;
        }
        if (aborted) return;
        if (queue.length === 0) {
          await stream.write(": keep-alive\n\n");
          continue;
        }
        const e = queue.shift()!;
        switch (e.kind) {
          case "record":
            await stream.writeSSE({ event: "record", id: String(e.record.seq), data: JSON.stringify({ seq: e.record.seq, stream: e.record.stream, value: e.record.value, at: e.record.at }) });
            break;
          case "status":
            await stream.writeSSE({ event: "status", data: jobData(e.job) });
            break;
          case "end":
            await stream.writeSSE({ event: "end", data: jobData(e.job) });
            return;
          case "error":
            await stream.writeSSE({ event: "error", data: JSON.stringify({ error: e.message }) });
            return;
        }
      }
    } finally {
      sub.close();
    }
  });
}
