// The soak's checker: reads the evidence of a run (evidence.ts) and counts every way the
// runtime's promises (../shared/RUNTIME.md) could have been broken. A pure function, so the
// self-test (checker.test.ts) can show it catches each kind on doctored evidence.
//
// What it relies on: the ledger's accepted rows are the side effects that really happened, in
// order (ids come from one sequence; an accepted row was written under the job's current lease,
// see runbooks/ledger.ts); job_history records every transition with the operator's name on the
// operator's own; jobs.ts says what each soak runbook outputs and where it checkpoints.
import type { Evidence, JobEvidence, LedgerEvidence } from "./evidence.js";
import { expectationOf } from "./jobs.js";
import { tickViolations } from "./ticks.js";

export const VIOLATION_KINDS = [
  "lost",
  "double run",
  "redone before a checkpoint",
  "output",
  "left an end",
  "left suspended without an operator",
  "side effect after the end",
  "unexpected failure",
  "stopped without an operator",
  "hostile input mishandled",
  "worker crashed",
  "unclear error",
  "above the concurrency limit",
  "branch started twice",
  "branch limit exceeded",
  "branch missing",
  "two jobs for a tick",
  "tick lost",
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface Report {
  violations: Map<ViolationKind, string[]>;
  total: number;
  jobs: { all: number; byStatus: Map<string, number>; hostile: number };
  /** `parallel for` runs (a parent's key) and their branch jobs. */
  branches: { runs: number; jobs: number };
  faults: Map<string, number>;
  /** From a kill or a pause of a worker to each of its jobs resumed by another one. */
  failoverMs: number[];
  /** Ledger calls refused by the epoch fence (a worker that had lost the job). */
  staleRefused: number;
  ledgerRows: number;
  /** Jobs under a concurrency key, their keys, and the most of one key active at once. */
  keyed: { jobs: number; keys: number; peak: number };
}

const ENDED = new Set(["completed", "failed", "stopped"]);
const OPERATOR = /^(suspended|stopped|resumed) by /;

export function check(ev: Evidence): Report {
  const violations = new Map<ViolationKind, string[]>(VIOLATION_KINDS.map((k) => [k, []]));
  const add = (kind: ViolationKind, what: string) => violations.get(kind)!.push(what);
  const hostile = new Map(ev.hostile.map((h) => [h.job, h]));
  const history = groupBy(ev.history, (h) => h.job_id);
  const ledger = groupBy(ev.ledger.filter((l) => l.accepted), (l) => l.job);
  const streams = groupBy(ev.streams, (s) => s.job_id);

  for (const job of ev.jobs) {
    const hist = history.get(job.id) ?? [];
    const rows = ledger.get(job.id) ?? [];
    const h = hostile.get(job.id);
    const expected = expectationOf(job.runbook, job.params);

    if (!ENDED.has(job.status)) add("lost", `${job.id} (${job.runbook}) is still ${job.status}`);

    for (const t of hist) {
      if (t.from_status && ENDED.has(t.from_status)) add("left an end", `${job.id}: ${t.from_status} -> ${t.to_status} on ${t.worker ?? "-"} (${t.reason}) at ${iso(t.at)}`);
      // A line without a status change (a signal kept for a suspended job) leaves nothing.
      if (t.from_status === "suspended" && t.to_status !== "suspended" && !OPERATOR.test(t.reason)) add("left suspended without an operator", `${job.id}: suspended -> ${t.to_status} on ${t.worker ?? "-"} (${t.reason}) at ${iso(t.at)}`);
    }

    // A completion has no history row (migration 0008): the job row's finished_at says when.
    const end = hist.find((t) => ENDED.has(t.to_status)) ?? (job.finished_at && ENDED.has(job.status) ? { at: job.finished_at, to_status: job.status } : undefined);
    if (end) {
      for (const r of rows) if (r.at > end.at) add("side effect after the end", `${job.id}: position ${r.pos} on ${r.worker} epoch ${r.epoch} at ${iso(r.at)}, after it was ${end.to_status} at ${iso(end.at)}`);
    }

    if (job.status === "stopped" && !hist.some((t) => t.to_status === "stopped" && OPERATOR.test(t.reason))) {
      add("stopped without an operator", `${job.id}: ${hist.filter((t) => t.to_status === "stopped").map((t) => t.reason).join("; ") || "no history row"}`);
    }

    if (h) {
      const message = job.error?.message ?? "";
      if (job.status === "failed" && !new RegExp(h.error).test(message)) add("hostile input mishandled", `${job.id} (${h.kind}): failed with "${message}", expected /${h.error}/`);
      if (job.status === "completed" && !h.mayComplete) add("hostile input mishandled", `${job.id} (${h.kind}): completed, expected it to fail with /${h.error}/`);
      if (job.status === "stopped") add("hostile input mishandled", `${job.id} (${h.kind}): stopped, expected it to fail with /${h.error}/`);
    } else if (job.status === "failed" && !failedByBranch(job, ev.jobs, hostile)) {
      add("unexpected failure", `${job.id} (${job.runbook}): ${job.error?.message ?? "no error recorded"}`);
    }

    for (const problem of doubleRuns(rows)) add("double run", `${job.id}: ${problem}`);
    if (expected && !h) for (const problem of redone(rows, expected.boundaries)) add("redone before a checkpoint", `${job.id}: ${problem}`);

    const recs = streams.get(job.id) ?? [];
    const seqs = recs.map((r) => r.seq);
    if (seqs.some((s, i) => s !== i + 1)) add("output", `${job.id}: stream records numbered ${compact(seqs)}, not 1..${seqs.length}`);
    if (expected && ENDED.has(job.status)) {
      const got = recs.filter((r) => r.stream === "output").map((r) => r.value);
      const whole = job.status === "completed";
      const ok = whole ? sameList(got, expected.output) : sameList(got, expected.output.slice(0, got.length));
      if (!ok) add("output", `${job.id} (${job.status}): output ${JSON.stringify(got)}, expected ${whole ? "" : "a prefix of "}${JSON.stringify(expected.output)}`);
    }
  }

  const keyed = aboveLimit(ev);
  for (const problem of keyed.problems) add("above the concurrency limit", problem);
  for (const [what, kind] of branchProblems(ev)) add(kind, what);

  for (const v of tickViolations(ev)) add(v.kind, v.what);
  for (const c of ev.crashes) add("worker crashed", `${c.worker} exited ${c.code} on its own: ${firstError(c.tail)}`);
  for (const u of ev.unclear) add("unclear error", `runbook ${u.command}: exit ${u.code}, stderr ${JSON.stringify(u.stderr.slice(0, 300))}`);

  const byStatus = new Map<string, number>();
  for (const j of ev.jobs) byStatus.set(j.status, (byStatus.get(j.status) ?? 0) + 1);
  const faults = new Map<string, number>();
  for (const f of ev.faults) faults.set(f.kind, (faults.get(f.kind) ?? 0) + 1);
  return {
    violations,
    total: [...violations.values()].reduce((n, v) => n + v.length, 0),
    jobs: { all: ev.jobs.length, byStatus, hostile: ev.hostile.length },
    branches: {
      runs: new Set(ev.jobs.filter((j) => j.branch_index != null).map((j) => `${j.parent_id}\u0000${j.branch_key}`)).size,
      jobs: ev.jobs.filter((j) => j.branch_index != null).length,
    },
    faults,
    failoverMs: failovers(ev),
    staleRefused: ev.ledger.filter((l) => !l.accepted).length,
    ledgerRows: ev.ledger.length,
    keyed: { jobs: keyed.jobs, keys: keyed.keys, peak: keyed.peak },
  };
}

/**
 * A `parallel for` parent that failed because one of its branches ended badly for a reason the
 * soak caused itself (a hostile edit, an operator's stop): its error names that element.
 */
function failedByBranch(job: JobEvidence, jobs: JobEvidence[], hostile: Map<string, unknown>): boolean {
  const m = /^branch for element (.*) failed: /.exec(job.error?.message ?? "");
  if (!m) return false;
  return jobs.some((b) => b.parent_id === job.id && b.branch_label === m[1] && (hostile.has(b.id) || b.status === "stopped"));
}

/**
 * The branch invariants (docs/runtime.md, "Parallel branches"): each element of a run is one
 * job, created once; no more than the run's `limit` of them exist unfinished at one instant; a
 * completed parent had every branch completed. "At one instant" is in the order the history
 * rows were inserted (their ids), not their times: `at` is a transaction's start, and the
 * parent's transaction that starts the next branch may begin before the ending it waits for
 * (it sees it once the lock it waits on is released).
 */
function branchProblems(ev: Evidence): [string, ViolationKind][] {
  const out: [string, ViolationKind][] = [];
  const history = groupBy(ev.history, (h) => h.job_id);
  const byId = new Map(ev.jobs.map((j) => [j.id, j]));
  const runs = groupBy(
    ev.jobs.filter((j) => j.branch_index != null && j.parent_id !== null),
    (j) => `${j.parent_id}\u0000${j.branch_key}`,
  );
  for (const branches of runs.values()) {
    const parent = byId.get(branches[0].parent_id!);
    const where = `${branches[0].parent_id} run ${branches[0].branch_key}`;
    const seen = new Set<number>();
    for (const b of branches) {
      if (seen.has(b.branch_index!)) out.push([`${where}: element ${b.branch_index} has two jobs`, "branch started twice"]);
      seen.add(b.branch_index!);
      const created = (history.get(b.id) ?? []).filter((t) => t.from_status === null).length;
      if (created !== 1) out.push([`${b.id}: created ${created} times`, "branch started twice"]);
    }
    const limit = typeof parent?.params.limit === "number" ? parent.params.limit : null;
    if (limit !== null) {
      const events: [number, number][] = [];
      for (const b of branches) {
        const hist = history.get(b.id) ?? [];
        const from = hist.find((t) => t.from_status === null);
        const to = hist.find((t) => ENDED.has(t.to_status));
        if (from) events.push([from.id, 1], [to ? to.id : Infinity, -1]);
      }
      events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let n = 0;
      let max = 0;
      for (const [, d] of events) max = Math.max(max, (n += d));
      if (max > limit) out.push([`${where}: ${max} branches unfinished at once, limit ${limit}`, "branch limit exceeded"]);
    }
    if (parent?.status === "completed") {
      const k = typeof parent.params.k === "number" ? parent.params.k : branches.length;
      const done = new Set(branches.filter((b) => b.status === "completed" && b.branch_index! < k).map((b) => b.branch_index));
      if (done.size !== k) out.push([`${where}: parent completed with ${done.size} of its ${k} elements' branches completed`, "branch missing"]);
    }
  }
  return out;
}

/**
 * Two leases at once: an accepted side effect under an older epoch after one under a newer
 * epoch, or one epoch held by two workers.
 */
function doubleRuns(rows: LedgerEvidence[]): string[] {
  const out: string[] = [];
  let newest: LedgerEvidence | null = null;
  const holder = new Map<number, string>();
  for (const r of rows) {
    if (newest && r.epoch < newest.epoch) out.push(`epoch ${r.epoch} on ${r.worker} wrote position ${r.pos} at ${iso(r.at)}, after epoch ${newest.epoch} on ${newest.worker} wrote position ${newest.pos} at ${iso(newest.at)}`);
    const w = holder.get(r.epoch);
    if (w !== undefined && w !== r.worker) out.push(`epoch ${r.epoch} held by both ${w} and ${r.worker}`);
    holder.set(r.epoch, r.worker);
    if (!newest || r.epoch > newest.epoch) newest = r;
  }
  return out;
}

/**
 * A lease that began before a checkpoint an earlier lease had got past: that checkpoint had
 * committed (a job only goes on once its checkpoint is written), so the work before it ran again.
 */
function redone(rows: LedgerEvidence[], boundaries: number[]): string[] {
  const out: string[] = [];
  let reached = 0;
  let prev: LedgerEvidence | null = null;
  for (const r of rows) {
    if (prev && r.epoch !== prev.epoch) {
      const crossed = boundaries.find((c) => r.pos <= c && c < reached);
      if (crossed !== undefined) out.push(`epoch ${r.epoch} on ${r.worker} began at position ${r.pos}, but an earlier lease had reached position ${reached}, past the checkpoint after ${crossed}`);
    }
    reached = Math.max(reached, r.pos);
    prev = r;
  }
  return out;
}

/**
 * Moments when more jobs of one concurrency key were running, sleeping or waiting than its limit
 * (issue 14), from the history: a job is active from a transition into one of those statuses to
 * the next transition out of them. The place passes from an ended job to the next in the ending
 * transaction, so the next job's claim starts (and is stamped) after that end: no artefact of
 * transaction timestamps can make two spans overlap that did not.
 */
function aboveLimit(ev: Evidence): { problems: string[]; jobs: number; keys: number; peak: number } {
  const keyed = new Map(ev.jobs.filter((j) => j.concurrency_key != null).map((j) => [j.id, j]));
  const ACTIVE = new Set(["running", "sleeping", "waiting"]);
  const active = new Map<string, Set<string>>();
  const out: string[] = [];
  let peak = 0;
  // Ends before starts at the same instant: one transaction hands the place on as it ends a job.
  const ordered = ev.history.filter((h) => keyed.has(h.job_id)).sort((a, b) => a.at.getTime() - b.at.getTime() || Number(ACTIVE.has(a.to_status)) - Number(ACTIVE.has(b.to_status)) || a.id - b.id);
  for (const h of ordered) {
    const job = keyed.get(h.job_id)!;
    const key = job.concurrency_key!;
    const set = active.get(key) ?? new Set<string>();
    active.set(key, set);
    if (ACTIVE.has(h.to_status)) set.add(job.id);
    else set.delete(job.id);
    peak = Math.max(peak, set.size);
    if (set.size > job.concurrency_limit!) out.push(`${key} (limit ${job.concurrency_limit}) had ${set.size} jobs at once at ${iso(h.at)}: ${[...set].join(", ")}`);
  }
  return { problems: out, jobs: keyed.size, keys: new Set([...keyed.values()].map((j) => j.concurrency_key)).size, peak };
}

/** Failover times: from a kill or pause of a worker to each of its jobs resumed elsewhere. */
function failovers(ev: Evidence): number[] {
  const history = groupBy(ev.history, (h) => h.job_id);
  const out: number[] = [];
  for (const f of ev.faults) {
    if (!f.worker || !f.held) continue;
    for (const id of f.held) {
      const takeover = (history.get(id) ?? []).find((t) => t.at >= f.at && t.to_status === "running" && t.reason.startsWith(`lease of ${f.worker} expired`));
      if (takeover) out.push(takeover.at.getTime() - f.at.getTime());
    }
  }
  return out.sort((a, b) => a - b);
}

/** The line of a crashed worker's stderr that says what went wrong (an Error line, else the last). */
function firstError(tail: string): string {
  const lines = tail.trim().split("\n");
  return lines.find((l) => /^\w*Error\b|^runbook: /.test(l.trim())) ?? lines[lines.length - 1] ?? "";
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

function sameList(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
}

function compact(xs: number[]): string {
  return xs.length > 12 ? `${xs.slice(0, 12).join(",")},...` : xs.join(",");
}

function iso(d: Date): string {
  return d.toISOString();
}

