// A database error while a job starts a child (its session ended by the server, an outage) is
// the worker losing the job, not the job's error: before the fix the parent failed with
// "terminating connection due to administrator command" (found by the chaos soak under
// pg_terminate_backend). Now it resumes from its latest checkpoint once its lease expires, and
// the child, whose id is stable, is started exactly once.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../../runtime/db/connect.js";
import { Worker } from "../../runtime/worker.js";
import { freshDb } from "../setup/db.js";
import { enqueue, publish, transitions, waitFor } from "./helpers.js";
import type { HandModule } from "./modules.js";

const modules: HandModule[] = [
  { name: "kid", body: `return { kind: "return", value: 7 };` },
  {
    name: "starter",
    calls: ["kid"],
    body: `switch (frame.pc) {
      case 0: L.child = await ctx.start("kid", {}); frame.pc = 1; return { kind: "await", job: L.child };
      default:
        if (input && input.error) return { kind: "throw", error: input.error };
        return { kind: "return", value: input.value };
    }`,
  },
];

let db: Db;
let worker: Worker | undefined;
beforeAll(async () => {
  db = await freshDb();
  // The first child insert ends its own session (a sequence counts outside transactions, so the
  // rollback of the insert does not undo the count).
  await db.pool.query(`CREATE SEQUENCE child_inserts;
    CREATE FUNCTION end_session_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.parent_id IS NOT NULL AND nextval('child_inserts') = 1 THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER end_session_once BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION end_session_once()`);
});
afterAll(async () => {
  await worker?.stop({ graceMs: 1_000 });
  await db?.close();
});

it("a parent whose child start meets a database error resumes, and its child runs once", async () => {
  const versions = await publish(db, modules);
  worker = await Worker.start(db, { name: "w-outage", concurrency: 2, heartbeatMs: 200, timeoutMs: 2_000, pollMs: 100 });
  const id = await enqueue(db, "starter", versions.get("starter")!);
  const ended = await waitFor("the parent to end", async () => {
    const { rows } = await db.pool.query<{ status: string; error: { message: string } | null; result: unknown }>("SELECT status, error, result FROM jobs WHERE id = $1", [id]);
    return ["completed", "failed", "stopped"].includes(rows[0].status) && rows[0];
  }, 30_000);
  expect(ended.error?.message ?? null).toBeNull();
  expect(ended.status).toBe("completed");
  expect(ended.result).toBe(7);
  const { rows } = await db.pool.query<{ id: string; status: string }>("SELECT id, status FROM jobs WHERE parent_id = $1", [id]);
  expect(rows).toEqual([{ id: `${id}/0`, status: "completed" }]);
  expect(await transitions(db, id)).toContain("running->running");
  const { rows: history } = await db.pool.query<{ reason: string }>("SELECT reason FROM job_history WHERE job_id = $1 AND from_status = 'running' AND to_status = 'running'", [id]);
  expect(history.map((h) => h.reason)).toEqual(["lease of w-outage expired; resumed from the latest checkpoint"]);
});
