// Stored values come back exactly (runtime/json-text.ts, migration 0005): every path that writes
// a job's values (parameters, checkpoint, park, completion, stream records, signals, a version's
// parameters) is given values that jsonb would change or refuse, and what the pool reads back
// must be what the in-memory executor's codec gives: same key order, same numbers, same strings
// code unit for code unit. Comparing JSON.stringify texts checks all three (it is order-sensitive
// and writes lone surrogates as escapes).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorRecord, JobState, Json } from "../../runtime/abi.js";
import type { Db } from "../../runtime/db/connect.js";
import { withTransaction } from "../../runtime/db/tx.js";
import { migrate, readMigrations } from "../../runtime/db/migrate.js";
import { decodeJson, encodeJson, UnstorableValue } from "../../runtime/json-text.js";
import { writeCheckpoint } from "../../runtime/sql/checkpoint.js";
import { claimJobs, type ClaimedJob } from "../../runtime/sql/claim.js";
import { completeJobs } from "../../runtime/sql/complete.js";
import { sendSignal } from "../../runtime/sql/control.js";
import { getJob, insertJobs } from "../../runtime/sql/enqueue.js";
import { streamsAfter } from "../../runtime/sql/inspect.js";
import { parkJob, peekSignal } from "../../runtime/sql/park.js";
import { currentVersion, publishVersion } from "../../runtime/sql/versions.js";
import pg from "pg";
import { freshDatabaseUrl, freshDb } from "../setup/db.js";

function deep(levels: number): Json {
  let v: Json = "bottom";
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { k: v, a: i };
  return v;
}

/** Values jsonb reorders, rewrites or refuses, and the edges of numbers and strings. */
const NASTY: Record<string, Json> = {
  order: { zz: 1, a: 2, mmm: 3 },
  numericKeys: { "10": "ten", "9": "nine", b: "bee", a: "ay", "": "empty" },
  nested: { outer: { zz: [{ bb: 2, a: 1 }], a: null }, b: "x" },
  proto: JSON.parse('{"__proto__": {"zz": 1, "a": 2}, "b": 1}') as Json,
  nul: "a\u0000b",
  loneHigh: "x\ud800y",
  loneLow: "\udc00",
  pairs: "😀 é ☃",
  separators: "\u2028\u2029\u007f\t\n\"\\",
  numbers: [2 ** 64, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, -1.5e-7, 0.1 + 0.2, 123456789012345678, -0],
  deep: deep(1_000),
  big: "x".repeat(1_000_000),
};

/** What the in-memory executor sees after a suspension: the codec's round trip. */
const expected = (v: unknown) => JSON.stringify(decodeJson(encodeJson(v, "test")));

let db: Db;
const allSlots = () => Array.from({ length: db.slotCount }, (_, i) => i);

beforeAll(async () => {
  db = await freshDb(4);
});
afterAll(async () => {
  await db?.close();
});

async function claimed(id: string, params: Record<string, Json> = {}): Promise<ClaimedJob> {
  await insertJobs(db.pool, [{ id, runbook: "r", version: "v", params }], "test");
  const claims = await claimJobs(db.pool, "w", allSlots(), 100, 3_600_000);
  const c = claims.find((x) => x.id === id);
  if (!c) throw new Error(`job ${id} was not claimed`);
  return c;
}

function stateOf(locals: Record<string, Json>): JobState {
  return { frames: [{ runbook: "r", pc: 1, locals }], seq: 0 };
}

describe("the codec", () => {
  it("gives every value back exactly, canonicalising only -0 to 0", () => {
    for (const [name, v] of Object.entries(NASTY)) {
      expect(JSON.stringify(decodeJson(encodeJson(v, name))), name).toBe(JSON.stringify(v));
    }
    const numbers = decodeJson(encodeJson(NASTY.numbers, "numbers")) as number[];
    expect(Object.is(numbers[numbers.length - 1], 0)).toBe(true);
    expect(numbers.slice(0, -1)).toEqual((NASTY.numbers as number[]).slice(0, -1));
  });

  it("refuses what it cannot store with one sentence naming it", () => {
    expect(() => encodeJson(deep(100_000), "the job's state")).toThrow(UnstorableValue);
    expect(() => encodeJson(deep(100_000), "the job's state")).toThrow(/^the job's state cannot be stored: it is nested too deeply/);
    expect(() => encodeJson(undefined, "the job's result")).toThrow("the job's result cannot be stored: it is not a JSON value");
  });
});

describe("every stored value comes back as the codec gives it", () => {
  it("job parameters (insertJobs) and a version's parameters", async () => {
    const id = "params-1";
    await insertJobs(db.pool, [{ id, runbook: "r", version: "v", params: NASTY }], "test");
    expect(JSON.stringify((await getJob(db.pool, id))!.params)).toBe(expected(NASTY));
    // The stored text is the codec's text, byte for byte.
    const { rows } = await db.pool.query<{ t: string }>("SELECT params::text AS t FROM jobs WHERE id = $1", [id]);
    expect(rows[0].t).toBe(encodeJson(NASTY, "params"));

    const params = [{ name: "p", type: "{zz: number, a: number}", typeData: { kind: "record", fields: { zz: "number", a: "number", "10": "x", "9": "y" } }, hasDefault: false }];
    await publishVersion(db.pool, { hash: "h1", runbook: "typed", modules: { typed: { file: "typed.runbook", js: "\u0000" } }, params, activities: {}, activityDrift: "refuse" });
    expect(JSON.stringify((await currentVersion(db.pool, "typed"))!.params)).toBe(expected(params));
  });

  it("a checkpoint's state and stream records, and the state on the next claim", async () => {
    const c = await claimed("checkpoint-1");
    const state = stateOf(NASTY);
    const records = Object.values(NASTY).map((value, i) => ({ seq: i + 1, stream: "output", value }));
    const r = await writeCheckpoint(db.pool, { id: c.id, epoch: c.lease_epoch, state, label: "nasty", records, consumeSignal: null });
    expect(r).not.toBeNull();
    const row = (await getJob(db.pool, c.id))!;
    expect(JSON.stringify(row.state)).toBe(expected(state));
    const streams = await streamsAfter(db.pool, c.id);
    expect(streams.map((s) => JSON.stringify(s.value))).toEqual(records.map((rec) => expected(rec.value)));
    const { rows } = await db.pool.query<{ t: string }>("SELECT state::text AS t FROM jobs WHERE id = $1", [c.id]);
    expect(rows[0].t).toBe(encodeJson(state, "state"));

    // What a worker resumes from: the claim's row, after the lease expires.
    await db.pool.query("UPDATE jobs SET due_at = now() - interval '1 second' WHERE id = $1", [c.id]);
    const again = (await claimJobs(db.pool, "w2", allSlots(), 100, 3_600_000)).find((x) => x.id === c.id)!;
    expect(JSON.stringify(again.state)).toBe(expected(state));
    expect(again.state!.frames[0].locals.order).toEqual({ zz: 1, a: 2, mmm: 3 });
    expect(Object.keys(again.state!.frames[0].locals.order as object)).toEqual(["zz", "a", "mmm"]);
  });

  it("a park's state and records (sleep), a signal's payload", async () => {
    const c = await claimed("park-1");
    const state = stateOf({ m: NASTY.order, s: NASTY.nul, lone: NASTY.loneHigh });
    const records = [{ seq: 1, stream: "log", value: NASTY.numericKeys }];
    const parked = await parkJob(db.pool, {
      id: c.id, epoch: c.lease_epoch, worker: "w", state, label: "sleep", records, consumeSignal: null,
      status: "sleeping", waitSignal: null, awaitJob: null, untilMs: 3_600_000, keepUntil: false, reason: "test",
    });
    expect(parked?.status).toBe("sleeping");
    expect(JSON.stringify((await getJob(db.pool, c.id))!.state)).toBe(expected(state));
    expect(JSON.stringify((await streamsAfter(db.pool, c.id))[0].value)).toBe(expected(NASTY.numericKeys));

    await withTransaction(db.pool, (client) => sendSignal(client, c.id, "go", NASTY));
    const signal = await peekSignal(db.pool, c.id, "go");
    expect(JSON.stringify(signal!.payload)).toBe(expected(NASTY));
  });

  it("a completion's result, error and records, batched with other jobs", async () => {
    const a = await claimed("complete-a");
    const b = await claimed("complete-b");
    const error: ErrorRecord = { message: "bad \u0000 \ud800", runbook: "r", file: "r.runbook", line: 1, column: 2, data: NASTY };
    const { written } = await completeJobs(db.pool, "w", [
      { id: a.id, epoch: a.lease_epoch, status: "completed", result: NASTY, error: null, records: [{ seq: 1, stream: "output", value: NASTY }], consumeSignal: null, reason: "completed" },
      { id: b.id, epoch: b.lease_epoch, status: "failed", result: null, error, records: [], consumeSignal: null, reason: "failed" },
    ]);
    expect([...written].sort()).toEqual([a.id, b.id]);
    expect(JSON.stringify((await getJob(db.pool, a.id))!.result)).toBe(expected(NASTY));
    expect(JSON.stringify((await streamsAfter(db.pool, a.id))[0].value)).toBe(expected(NASTY));
    expect(JSON.stringify((await getJob(db.pool, b.id))!.error)).toBe(expected(error));
  });
});

describe("migration 0005", () => {
  it("turns a database of jsonb rows into json ones, each value as jsonb last gave it", async () => {
    const client = new pg.Client({ connectionString: await freshDatabaseUrl() });
    await client.connect();
    try {
      const all = readMigrations();
      await migrate(client, all.filter((m) => m.version < 5));
      await client.query(
        `INSERT INTO jobs (id, runbook, version, slot, status, params, state, due_at)
         VALUES ('old', 'r', 'v', 0, 'queued', '{"zz": 1, "a": 2}', '{"frames": [], "seq": 0}', now())`,
      );
      await client.query(`INSERT INTO job_streams (job_id, seq, stream, value) VALUES ('old', 1, 'output', '{"zz": 1, "a": 2}')`);
      expect(await migrate(client, all)).toEqual(all.filter((m) => m.version >= 5).map((m) => m.name));
      const { rows } = await client.query<{ table: string; column: string; type: string }>(
        `SELECT table_name AS table, column_name AS column, data_type AS type FROM information_schema.columns
         WHERE table_schema = 'public' AND data_type IN ('json', 'jsonb') ORDER BY 1, 2`,
      );
      const types = new Map(rows.map((r) => [`${r.table}.${r.column}`, r.type]));
      for (const column of ["assets.value", "job_streams.value", "jobs.error", "jobs.params", "jobs.result", "jobs.state", "signals.payload", "versions.modules", "versions.params"]) {
        expect(types.get(column), column).toBe("json");
      }
      const job = await client.query<{ params: string; value: string }>("SELECT j.params::text AS params, s.value::text AS value FROM jobs j JOIN job_streams s ON s.job_id = j.id");
      expect(job.rows[0]).toEqual({ params: '{"a": 2, "zz": 1}', value: '{"a": 2, "zz": 1}' });
    } finally {
      await client.end();
    }
  });
});
