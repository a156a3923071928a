// A job holding a secret, on real workers (in process) and a real PostgreSQL: its waiting state
// is sealed; a worker without the key parks it suspended with its checkpoint intact, never
// failing it; once a worker has the key again, `resume` lets it finish with the secret.
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { setAsset } from "../../runtime/builtins/asset.js";
import type { Db } from "../../runtime/db/connect.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { controlJob, sendSignal } from "../../runtime/sql/control.js";
import { Worker } from "../../runtime/worker.js";
import { freshDb } from "../setup/db.js";
import { enqueue, publish, waitFor, waitStatus } from "./helpers.js";

const SECRET = "s3cret-for-the-sealed-jobs-test";
const KEY = "the sealed-jobs test passphrase";
const holder = {
  name: "holder",
  live: { 1: ["pw"] },
  body: `switch (frame.pc) {
    case 0: L.pw = await ctx.activity("", "asset", { name: "db_password" }); frame.pc = 1; return { kind: "wait", signal: "go", timeoutMs: null };
    default: ctx.emit("output", "got " + L.pw); return { kind: "return", value: L.pw.length };
  }`,
};

let db: Db;
let versions: Map<string, string>;
const workers: Worker[] = [];
const keyBefore = process.env.RUNBOOK_SECRET_KEY;

beforeAll(async () => {
  db = await freshDb(8);
  versions = await publish(db, [holder]);
  await setAsset((q, p) => db.pool.query(q, p), "db_password", SECRET, true, KEY);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 2_000 })));
});
afterAll(async () => {
  if (keyBefore === undefined) delete process.env.RUNBOOK_SECRET_KEY;
  else process.env.RUNBOOK_SECRET_KEY = keyBefore;
  await db?.close();
});

async function startWorker(name: string, key: string | undefined): Promise<Worker> {
  // The worker reads the key from its environment, as `runbook worker` does.
  if (key === undefined) delete process.env.RUNBOOK_SECRET_KEY;
  else process.env.RUNBOOK_SECRET_KEY = key;
  const w = await Worker.start(db, { name, concurrency: 2, heartbeatMs: 150, timeoutMs: 1_000, pollMs: 100 });
  workers.push(w);
  return w;
}
const stopAll = () => Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 2_000 })));

it("a worker that cannot open a job's sealed secrets parks it suspended; with the key back, resume finishes it", async () => {
  await startWorker("with-key", KEY);
  const id = await enqueue(db, "holder", versions.get("holder")!);
  await waitStatus(db, id, "waiting");
  const stored = await db.pool.query<{ state: string }>("SELECT state::text AS state FROM jobs WHERE id = $1", [id]);
  expect(stored.rows[0].state).not.toContain(SECRET);
  await stopAll();

  await startWorker("no-key", undefined);
  await withTransaction(db.pool, (c) => sendSignal(c, id, "go", null));
  const parked = await waitStatus(db, id, "suspended");
  expect(parked.worker).toBe("no-key");
  const history = await db.pool.query<{ reason: string }>("SELECT reason FROM job_history WHERE job_id = $1 ORDER BY id DESC LIMIT 1", [id]);
  expect(history.rows[0].reason).toBe(
    `its checkpoint holds sealed secrets this worker cannot open (its sealed secrets do not open: RUNBOOK_SECRET_KEY is not set: secrets need a key (32 bytes in base64, or a passphrase)); set RUNBOOK_SECRET_KEY on the workers, then runbook resume ${id}`,
  );
  // The checkpoint is the one the first worker wrote, byte for byte.
  const after = await db.pool.query<{ state: string }>("SELECT state::text AS state FROM jobs WHERE id = $1", [id]);
  expect(after.rows[0].state).toBe(stored.rows[0].state);
  await stopAll();

  await startWorker("key-back", KEY);
  await withTransaction(db.pool, (c) => controlJob(c, id, "resume", "test"));
  const done = await waitStatus(db, id, "completed");
  expect(done.result).toBe(SECRET.length);
  const out = await waitFor("the output", async () => (await db.pool.query("SELECT value FROM job_streams WHERE job_id = $1", [id])).rows[0]);
  expect(out.value).toBe("got ***");
});
