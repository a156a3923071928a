// The operator lane: what people do to jobs while the faults run. Random stops, suspends,
// resumes and signals through the real `runbook` commands, and hostile input: random
// parameter JSON to `runbook start`, random bytes as a signal payload, a checkpoint row
// truncated or edited by hand, a version row deleted under a running job. A bad input must get
// one clear line from the command (recorded otherwise); a hostile edit must fail its own job
// with a clear error and nothing else (the checker verifies both).
import { insertJobs } from "../../runtime/sql/enqueue.js";
import type { Ran } from "../runtime/process.js";
import type { Soak } from "./context.js";
import type { HostileJob } from "./evidence.js";
import type { Prng } from "./prng.js";
import { runSchedule } from "./schedule.js";

export const OPERATOR_KINDS = ["stop", "suspend", "resume", "signal", "signal bytes", "bad parameters", "corrupt checkpoint", "delete version"] as const;
export type OperatorKind = (typeof OPERATOR_KINDS)[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENDED = "('completed', 'failed', 'stopped')";

/** The operator kinds of this soak (all, unless --only names some). */
export function operatorKinds(soak: Soak): OperatorKind[] {
  return OPERATOR_KINDS.filter((k) => !soak.settings.only || soak.settings.only.includes(k));
}

export async function operatorLane(soak: Soak, rng: Prng, until: number): Promise<void> {
  // The hostile edits take a while (the job must reach its wait): they run beside the lane, one
  // of each kind at a time.
  const flows = new Map<OperatorKind, Promise<void>>();
  const flow = (kind: "corrupt checkpoint" | "delete version") => (kind === "corrupt checkpoint" ? corruptCheckpoint(soak, rng.fork()) : deleteVersion(soak, rng.fork()));
  await runSchedule(soak, rng, until, {
    kinds: operatorKinds(soak),
    gap: [300, 1500],
    retries: 30,
    run: async (kind, settled) => {
      if (kind !== "corrupt checkpoint" && kind !== "delete version") return act(soak, rng, kind);
      if (settled) return flow(kind);
      if (flows.has(kind)) return;
      const running = flow(kind)
        .catch((e) => soak.log(`${kind}: ${(e as Error).message}`))
        .finally(() => flows.delete(kind));
      flows.set(kind, running);
    },
    idle: async () => void (await Promise.all(flows.values())),
  });
}

async function act(soak: Soak, rng: Prng, kind: Exclude<OperatorKind, "corrupt checkpoint" | "delete version">): Promise<void> {
  const record = async (detail?: string) => soak.faults.push({ kind, at: await soak.project.now(), detail });
  switch (kind) {
    case "stop": {
      // Top-level jobs only: a parent fails, by design, when a child it awaits is stopped.
      const id = await pickJob(soak, rng, `status NOT IN ${ENDED} AND parent_id IS NULL`);
      if (!id) return;
      await record(id);
      await soak.gate.cli(["stop", id]);
      return;
    }
    case "suspend": {
      const id = await pickJob(soak, rng, `status NOT IN ${ENDED} AND status <> 'suspended'`);
      if (!id) return;
      await record(id);
      await soak.gate.cli(["suspend", id]);
      return;
    }
    case "resume": {
      const id = await pickJob(soak, rng, "status = 'suspended'");
      if (!id) return;
      await record(id);
      await soak.gate.cli(["resume", id]);
      return;
    }
    case "signal": {
      const waiting = rng.chance(0.6);
      const id = await pickJob(soak, rng, waiting ? "status = 'waiting' AND wait_signal = 'go'" : `status NOT IN ${ENDED}`);
      if (!id) return;
      const name = waiting || rng.chance(0.5) ? "go" : "noise";
      await record(`${name} to ${id}`);
      await soak.gate.cli(["signal", id, name, JSON.stringify({ n: rng.int(0, 1000) })]);
      return;
    }
    case "signal bytes": {
      const id = await pickJob(soak, rng, `status NOT IN ${ENDED}`);
      if (!id) return;
      // Raw bytes (argv cannot hold NUL): mostly not JSON, refused with one line; or the same
      // bytes as a JSON string, delivered and carried by the job like any payload.
      const raw = Buffer.from(rng.bytes(rng.int(1, 48)).map((b) => b || 1)).toString("latin1");
      const payload = rng.chance(0.5) ? raw : JSON.stringify(raw);
      await record(id);
      expectClear(soak, `signal ${id} go <${payload.length} random bytes>`, await soak.gate.cli(["signal", id, "go", payload]));
      return;
    }
    case "bad parameters": {
      const [runbook, param] = rng.pick([
        ["chaos_steps", "n"],
        ["chaos_sleepy", "nap"],
        ["chaos_parent", "k"],
        ["chaos_flaky", "fails"],
        ["chaos_steps", "unknown"],
      ] as const);
      const text = randomJsonText(rng);
      await record(`${runbook} ${param}=${text.slice(0, 40)}`);
      const r = await soak.gate.cli(["start", runbook, "--param", `${param}=${text}`]);
      expectClear(soak, `start ${runbook} --param ${param}=${text.slice(0, 80)}`, r);
      if (r.code === 0) soak.log(`start with parameter ${param}=${text} was accepted: job ${r.stdout.trim()}`);
      return;
    }
  }
}

/**
 * A victim reaches its wait; its checkpoint row is then truncated or edited by hand, and a
 * signal wakes it: the worker that claims it must fail it with a clear error.
 */
async function corruptCheckpoint(soak: Soak, rng: Prng): Promise<void> {
  const id = await startReserved(soak, "chaos_victim", { n: rng.int(1, 3) });
  if (!(await reach(soak, id, ["waiting"]))) return;
  const edits = [
    { sql: "to_jsonb(left(state::text, 40))", what: "truncated to 40 characters", error: "checkpoint is corrupt \\(not an object\\)" },
    { sql: "state::jsonb - 'frames'", what: "frames removed", error: "checkpoint is corrupt \\(no frames\\)" },
    { sql: `jsonb_set(state::jsonb, '{seq}', '"x"')`, what: "seq made a string", error: "checkpoint is corrupt \\(no sequence number\\)" },
    { sql: "jsonb_set(state::jsonb, '{frames,0,pc}', '987654')", what: "pc edited to 987654", error: "^[^\\n]+$" },
  ];
  const edit = rng.pick(edits);
  // Recorded before the edit, with nothing to await between the edit and the record: a database
  // restart (another fault) that failed a later statement of this flow once left an edit made but
  // unrecorded, and the job's failure, when its wait timed out, read as unexpected.
  const at = await soak.project.now();
  const hostile: HostileJob = { job: id, kind: "checkpoint", error: edit.error, mayComplete: false };
  soak.hostile.push(hostile);
  let rowCount: number | null;
  try {
    // jobs.state is json (migration 0005): the edits are made on a jsonb copy and stored back.
    ({ rowCount } = await soak.project.pool.query(`UPDATE jobs SET state = (${edit.sql})::json WHERE id = $1 AND status = 'waiting'`, [id]));
  } catch (e) {
    // Made or not (a connection lost at the commit cannot tell): the job fails as the edit says,
    // or completes untouched.
    hostile.mayComplete = true;
    throw e;
  }
  if (rowCount !== 1) {
    soak.hostile.splice(soak.hostile.indexOf(hostile), 1);
    return;
  }
  soak.faults.push({ kind: "corrupt checkpoint", at, detail: `${id}: ${edit.what}` });
  await soak.gate.cli(["signal", id, "go"]);
}

/**
 * The version of a running job is deleted (and its runbook's current version with it). A worker
 * claiming the job afterwards must fail it with a clear error; one that still has the version
 * loaded (it ran the job before) may complete it.
 */
async function deleteVersion(soak: Soak, rng: Prng): Promise<void> {
  const pub = await soak.gate.cli(["publish", "runbooks/chaos_doomed.runbook"]);
  if (pub.code !== 0) throw new Error(`publish: ${pub.stderr.trim()}`);
  const id = await startReserved(soak, "chaos_doomed", { n: rng.int(2, 4) }, true);
  if (!(await reach(soak, id, ["running", "waiting"]))) return;
  // Every job still on that version is hit, not only this one (an earlier flow's job that
  // never got its edit, say): each must fail clearly or complete. They are recorded before the
  // delete too (completing is allowed for them): a delete whose reply a database restart cuts off
  // may still have committed.
  const hit = (job: string) => {
    if (soak.hostile.some((h) => h.job === job && h.kind === "version")) return;
    soak.reserved.add(job);
    soak.hostile.push({ job, kind: "version", error: "is missing from the database", mayComplete: true });
  };
  const { rows: before } = await soak.project.pool.query<{ id: string }>(
    `SELECT id FROM jobs WHERE version = (SELECT version FROM jobs WHERE id = $1) AND status NOT IN ${ENDED}`,
    [id],
  );
  for (const r of before) hit(r.id);
  const { rows } = await soak.project.pool.query<{ version: string; hit: string[] }>(
    `WITH r AS (DELETE FROM runbooks WHERE name = 'chaos_doomed'),
          v AS (DELETE FROM versions v USING jobs j WHERE j.id = $1 AND v.hash = j.version RETURNING v.hash)
     SELECT v.hash AS version, ARRAY(SELECT id FROM jobs WHERE version = v.hash AND status NOT IN ${ENDED}) AS hit FROM v`,
    [id],
  );
  if (rows.length !== 1) return;
  for (const job of [id, ...rows[0].hit]) hit(job);
  soak.faults.push({ kind: "delete version", at: await soak.project.now(), detail: `${id}: ${rows[0].version.slice(0, 12)}` });
  if (await reach(soak, id, ["waiting"])) await soak.gate.cli(["signal", id, "go"]);
}

/** Queues a job the operator lane leaves alone; through `runbook start` or the enqueue function. */
async function startReserved(soak: Soak, runbook: string, params: Record<string, number>, viaCli = false): Promise<string> {
  if (viaCli) {
    const r = await soak.gate.cli(["start", runbook, ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`)]);
    if (r.code !== 0) throw new Error(`runbook start ${runbook}: ${r.stderr.trim()}`);
    const id = r.stdout.trim();
    soak.reserved.add(id);
    return id;
  }
  const { rows } = await soak.project.pool.query<{ version: string }>("SELECT version FROM runbooks WHERE name = $1", [runbook]);
  const id = `victim-${soak.settings.seed}-${soak.reserved.size + 1}`;
  soak.reserved.add(id);
  await insertJobs(soak.project.pool, [{ id, runbook, version: rows[0].version, params }], "queued by the chaos soak");
  return id;
}

/** Waits (up to 60 s) for the job to be in one of `statuses`. */
async function reach(soak: Soak, id: string, statuses: string[]): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    const { rows } = await soak.project.pool.query<{ status: string }>("SELECT status FROM jobs WHERE id = $1", [id]).catch(() => ({ rows: [] as { status: string }[] }));
    if (rows[0] && statuses.includes(rows[0].status)) return true;
    if (rows[0] && ["completed", "failed", "stopped"].includes(rows[0].status)) return false;
    await sleep(100);
  }
  return false;
}

/** A random job matching `where` that the lane may touch, or null. */
async function pickJob(soak: Soak, rng: Prng, where: string): Promise<string | null> {
  const { rows } = await soak.project.pool.query<{ id: string }>(`SELECT id FROM jobs WHERE ${where} ORDER BY id`);
  const ids = rows.map((r) => r.id).filter((id) => !soak.reserved.has(id));
  return ids.length ? rng.pick(ids) : null;
}

/** A refused command must say why in one line: no stack trace, no second line. */
function expectClear(soak: Soak, command: string, r: Ran): void {
  if (r.code === 0) return;
  const lines = r.stderr.trimEnd().split("\n");
  const clear = lines.length === 1 && /^(runbook|error): \S/.test(lines[0]) && !/\bat .+:\d+:\d+/.test(r.stderr);
  if (!clear) soak.unclear.push({ command, code: r.code, stderr: r.stderr });
}

/** Random JSON text: any value but a bare number, sometimes cut short (then not JSON at all). */
export function randomJsonText(rng: Prng): string {
  const value = (depth: number): unknown => {
    const r = rng.int(0, depth > 2 ? 3 : 6);
    switch (r) {
      case 0:
        return null;
      case 1:
        return rng.chance(0.5);
      case 2:
        return rng.bytes(rng.int(0, 12)).toString("latin1");
      case 3:
        return rng.next() * 10 ** rng.int(-3, 30) * (rng.chance(0.5) ? -1 : 1);
      case 4:
      case 5:
        return Array.from({ length: rng.int(0, 4) }, () => value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: rng.int(0, 4) }, () => [rng.bytes(rng.int(1, 6)).toString("latin1"), value(depth + 1)]));
    }
  };
  let v = value(0);
  if (typeof v === "number") v = [v];
  let text = JSON.stringify(v).replace(/\u0000/g, "\\u0001");
  if (rng.chance(0.25)) text = text.slice(0, rng.int(0, text.length - 1));
  return text || "{";
}
