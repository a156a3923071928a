// A worker's database session ended by the server (pg_terminate_backend, a restart) while the
// worker holds it between two statements of a transaction. A pooled client that is lent out has
// no error listener of the pool's: before the fix, the server's termination notice was emitted
// as an unhandled 'error' event and ended the whole worker process (found by the chaos soak:
// `runbook worker` exited 1 with "terminating connection due to administrator command", 57P01).
// Now the transaction fails with that error and the process goes on.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { joinDeployment } from "../../runtime/sql/workers.js";
import { freshDb } from "../setup/db.js";

let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.close();
});

/** Ends the session `pid` and resolves once the client has seen its connection end. */
async function terminate(client: { once(e: "end", f: () => void): unknown }, pid: number): Promise<void> {
  const ended = new Promise<void>((r) => client.once("end", r));
  await db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
  await ended;
}

it("a transaction whose session the server ends between two statements fails; the process goes on", async () => {
  for (let i = 0; i < 20; i++) {
    const run = withTransaction(db.pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // Between two statements, with no query in flight: the notice arrives on an idle client.
      await terminate(client, rows[0].pid);
      await client.query("SELECT 1");
    });
    await expect(run).rejects.toThrow(/terminat|connection/i);
  }
  // The pool gave the dead clients up and works.
  expect((await db.pool.query<{ n: number }>("SELECT 1 AS n")).rows[0].n).toBe(1);
});

it("joining a deployment whose session ends mid-transaction fails that call only", async () => {
  // Hold the joiners' advisory lock, so joinDeployment waits inside its transaction; end its
  // session there.
  const lock = await db.pool.connect();
  try {
    await lock.query("SELECT pg_advisory_lock(7243002)");
    const settled = joinDeployment(db.pool, "w-ended").then(
      () => "joined",
      (e: Error) => e.message,
    );
    let pid: number | undefined;
    for (let i = 0; i < 2_000 && pid === undefined; i++) {
      const { rows } = await lock.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(pid).toBeDefined();
    await lock.query("SELECT pg_terminate_backend($1)", [pid]);
    expect(await settled).toMatch(/terminat|connection/i);
  } finally {
    await lock.query("SELECT pg_advisory_unlock_all()");
    lock.release();
  }
  expect((await db.pool.query<{ n: number }>("SELECT 1 AS n")).rows[0].n).toBe(1);
});
