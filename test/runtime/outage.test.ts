// The worker's outage report (runtime/db/outage.ts): which errors mean the database is away, and
// one line per interval however many parts fail. No database: the errors are the ones pg and
// Node give (a real refused connection is made once, to a port nobody listens on).
import * as net from "node:net";
import pg from "pg";
import { expect, it, vi } from "vitest";
import { isConnectionError, Outage } from "../../runtime/db/outage.js";

it("tells a lost or refused connection from an error of the statement", async () => {
  // A real refusal: a port that was free a moment ago.
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const client = new pg.Client({ connectionString: `postgres://x:y@127.0.0.1:${port}/db` });
  const refused = await client.connect().then(() => null, (e: unknown) => e);
  expect(isConnectionError(refused)).toBe(true);

  const gone = [
    Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
    Object.assign(new Error("the database system is shutting down"), { code: "57P03" }),
    Object.assign(new Error("connection failure"), { code: "08006" }),
    new Error("Connection terminated unexpectedly"),
    new Error("Connection terminated due to connection timeout"),
    new Error("timeout exceeded when trying to connect"),
    new Error("Client has encountered a connection error and is not queryable"),
  ];
  for (const e of gone) expect(isConnectionError(e), e.message).toBe(true);
  const statement = [
    Object.assign(new Error('relation "jobs" does not exist'), { code: "42P01" }),
    Object.assign(new Error("deadlock detected"), { code: "40P01" }),
    Object.assign(new Error("new row violates check constraint"), { code: "23514" }),
    new Error("the job's lease was lost"),
    null,
    "ECONNREFUSED",
  ];
  for (const e of statement) expect(isConnectionError(e), String(e)).toBe(false);
});

it("logs one line when the database is lost, at most one per interval while away, one when back", () => {
  vi.useFakeTimers({ toFake: ["performance"] });
  try {
    const log: string[] = [];
    const outage = new Outage({ where: () => "127.0.0.1:5432", everyMs: 3_000, log: (l) => log.push(l) });
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(outage.failed(Object.assign(new Error("syntax error"), { code: "42601" }))).toBe(false);
    expect(outage.down).toBe(false);
    // Ten failures a second for ten seconds (heartbeat, claims, ...), three jobs stopped.
    for (let i = 0; i < 100; i++) {
      expect(outage.failed(refused)).toBe(true);
      if (i < 3) outage.jobStopped();
      vi.advanceTimersByTime(100);
    }
    expect(outage.down).toBe(true);
    outage.reached();
    outage.reached();
    expect(outage.down).toBe(false);
    expect(log).toEqual([
      "cannot reach the database at 127.0.0.1:5432 (connect ECONNREFUSED 127.0.0.1:5432); retrying: running jobs stop at their next write and resume from their latest checkpoint once it is back",
      "still cannot reach the database at 127.0.0.1:5432 after 3.0 s (connect ECONNREFUSED 127.0.0.1:5432); jobs stopped here meanwhile: 3 (they resume from their latest checkpoint)",
      "still cannot reach the database at 127.0.0.1:5432 after 6.0 s (connect ECONNREFUSED 127.0.0.1:5432); jobs stopped here meanwhile: 3 (they resume from their latest checkpoint)",
      "still cannot reach the database at 127.0.0.1:5432 after 9.0 s (connect ECONNREFUSED 127.0.0.1:5432); jobs stopped here meanwhile: 3 (they resume from their latest checkpoint)",
      "the database at 127.0.0.1:5432 is reachable again after 10.0 s; jobs stopped here meanwhile: 3 (they resume from their latest checkpoint); working again",
    ]);
    // The next outage starts its own count. A job running since before it ended ran through it.
    const jobBegan = performance.now();
    vi.advanceTimersByTime(100);
    outage.failed(refused);
    outage.reached();
    expect(log.at(-1)).toBe("the database at 127.0.0.1:5432 is reachable again after 0.0 s; working again");
    expect(outage.endedSince(jobBegan)).toBe(true);
    vi.advanceTimersByTime(100);
    expect(outage.endedSince(performance.now())).toBe(false);
  } finally {
    vi.useRealTimers();
  }
});
