// The infrastructure faults, one at a time in their own lane: a worker killed, paused past its
// lease, drained, terminated, redeployed away; the database restarted or its sessions cut; a
// worker whose clock is minutes off; a transaction left open for minutes. Scheduled by
// schedule.ts: every kind at least once, then at random until the time is up.
import pg from "pg";
import type { Soak } from "./context.js";
import { libfaketime } from "./fleet.js";
import type { Prng } from "./prng.js";
import { runSchedule } from "./schedule.js";

export const FAULT_KINDS = ["kill -9", "SIGSTOP", "drain", "SIGTERM", "deploy subset", "PostgreSQL restart", "pg_terminate_backend", "clock skew", "idle transaction"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kinds this setup cannot inject, with why. */
export function impossibleKinds(soak: Soak): Map<FaultKind, string> {
  const out = new Map<FaultKind, string>();
  if (!soak.project.embedded) out.set("PostgreSQL restart", "not possible with DATABASE_URL");
  if (!hasFaketime()) out.set("clock skew", "faketime is not installed (Debian: apt-get install faketime)");
  return out;
}

/** The kinds this soak injects. */
export function faultKinds(soak: Soak): FaultKind[] {
  const impossible = impossibleKinds(soak);
  return FAULT_KINDS.filter((k) => !impossible.has(k) && (!soak.settings.only || soak.settings.only.includes(k)));
}

function hasFaketime(): boolean {
  try {
    return libfaketime() !== "";
  } catch {
    return false;
  }
}

export async function faultLane(soak: Soak, rng: Prng, until: number): Promise<void> {
  await runSchedule(soak, rng, until, { kinds: faultKinds(soak), gap: [300, 2500], retries: 20, run: (kind) => inject(soak, rng, kind) });
}

/** The open idle transaction, if any: ended at the end of the run. */
let idle: { end(): Promise<void> } | null = null;

export async function endIdleTransaction(): Promise<void> {
  await idle?.end();
}

async function inject(soak: Soak, rng: Prng, kind: FaultKind): Promise<void> {
  const { fleet, project, settings } = soak;
  switch (kind) {
    case "kill -9": {
      const w = await target(soak, rng);
      const at = await project.now();
      const held = await heldBy(soak, w);
      fleet.signal(w, "SIGKILL");
      await fleet.exited(w);
      soak.faults.push({ kind, at, worker: w, held });
      await sleep(rng.int(200, 1500));
      await fleet.start(w, fleet.skewOf(w));
      return;
    }
    case "SIGSTOP": {
      const w = await target(soak, rng);
      const at = await project.now();
      const held = await heldBy(soak, w);
      fleet.signal(w, "SIGSTOP");
      soak.faults.push({ kind, at, worker: w, held });
      // Past the lease: its jobs are taken over; back, every write it tries is refused.
      await sleep(settings.timeoutMs + rng.int(300, 2500));
      fleet.signal(w, "SIGCONT");
      return;
    }
    case "drain": {
      const w = await target(soak, rng);
      const suspend = rng.chance(0.3);
      soak.faults.push({ kind, at: await project.now(), worker: w, detail: suspend ? "--suspend" : undefined });
      fleet.expectExit(w);
      const r = await soak.gate.cli(["drain", w, "--timeout", `${rng.int(1, 4)}s`, ...(suspend ? ["--suspend"] : [])]);
      if (r.code !== 0) {
        soak.log(`runbook drain ${w}: exit ${r.code}: ${(r.stdout + r.stderr).trim()}`);
        fleet.signal(w, "SIGTERM");
      }
      await fleet.exited(w);
      await fleet.start(w, fleet.skewOf(w));
      return;
    }
    case "SIGTERM": {
      const w = await target(soak, rng);
      soak.faults.push({ kind, at: await project.now(), worker: w });
      fleet.signal(w, "SIGTERM");
      await fleet.exited(w);
      await sleep(rng.int(100, 1000));
      await fleet.start(w, fleet.skewOf(w));
      return;
    }
    case "deploy subset": {
      const names = fleet.names;
      const subset = names.length === 1 ? names : rng.shuffle(names).slice(0, rng.int(1, names.length - 1)).sort();
      soak.faults.push({ kind, at: await project.now(), detail: subset.join(",") });
      await deploy(soak, subset);
      await sleep(rng.int(1000, 5000));
      await deploy(soak, names);
      return;
    }
    case "PostgreSQL restart": {
      const down = rng.int(300, 3000);
      await soak.gate.exclusive(async () => {
        soak.faults.push({ kind, at: await project.now(), detail: `down ${down} ms` });
        await project.restartDatabase(down);
      });
      return;
    }
    case "pg_terminate_backend": {
      const at = await project.now();
      const { rows } = await project.pool.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name NOT IN ('chaos', 'chaos-idle')`,
      );
      soak.faults.push({ kind, at, detail: `${rows[0].n} sessions` });
      return;
    }
    case "clock skew": {
      const w = await target(soak, rng);
      const skew = fleet.skewOf(w) !== 0 && rng.chance(0.5) ? 0 : rng.pick([-1, 1]) * rng.int(2, 9);
      soak.faults.push({ kind, at: await project.now(), worker: w, detail: `${skew > 0 ? "+" : ""}${skew} min` });
      fleet.signal(w, "SIGTERM");
      await fleet.exited(w);
      await fleet.start(w, skew);
      return;
    }
    case "idle transaction": {
      if (idle) await idle.end();
      const holdMs = rng.int(60_000, 240_000);
      idle = await openIdleTransaction(project.url, holdMs);
      soak.faults.push({ kind, at: await project.now(), detail: `held up to ${Math.round(holdMs / 1000)} s` });
      return;
    }
  }
}

/** A live, running worker (at least one always is: faults come one at a time). */
async function target(soak: Soak, rng: Prng): Promise<string> {
  const up = soak.fleet.names.filter((n) => soak.fleet.isUp(n) && !soak.fleet.isPaused(n));
  if (up.length === 0) throw new Error("no worker is up");
  return rng.pick(up);
}

async function heldBy(soak: Soak, worker: string): Promise<string[]> {
  const { rows } = await soak.project.pool.query<{ id: string }>("SELECT id FROM jobs WHERE worker = $1 AND status = 'running'", [worker]);
  return rows.map((r) => r.id);
}

async function deploy(soak: Soak, names: string[]): Promise<void> {
  const r = await soak.gate.cli(["deploy", "--workers", names.join(",")]);
  if (r.code !== 0) throw new Error(`runbook deploy --workers ${names.join(",")}: exit ${r.code}: ${r.stderr.trim()}`);
}

/**
 * A session that opens a transaction, reads the queue (holding a snapshot, so vacuum cannot
 * clean the rows it may see, and a lock on the table) and then sits idle, as a forgotten psql
 * session does. Ended after `holdMs`, or by `end()`; a database restart may end it sooner.
 */
async function openIdleTransaction(url: string, holdMs: number): Promise<{ end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: "chaos-idle" });
  client.on("error", () => undefined);
  await client.connect();
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  await client.query("SELECT count(*) FROM jobs");
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    await client.query("COMMIT").catch(() => undefined);
    await client.end().catch(() => undefined);
  };
  const timer = setTimeout(() => void end(), holdMs);
  return { end };
}
