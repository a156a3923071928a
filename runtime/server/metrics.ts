// GET /metrics: Prometheus text from prom-client, every figure read from the database at scrape
// time (the workers that make them run in other processes):
//   runbook_jobs{runbook,status}                 jobs now (gauge)
//   runbook_checkpoints_total{runbook}           checkpoints committed by the jobs still stored
//   runbook_checkpoint_duration_seconds          checkpoint write latency (histogram, per worker process)
//   runbook_claims_total                         jobs claimed by a worker (takeovers included)
//   runbook_lease_takeovers_total                claims of a job whose lease had expired
//   runbook_handovers_total                      jobs handed on at a checkpoint (drain, moved slot)
//   runbook_workers_live                         workers with a fresh heartbeat
// Takeovers and handovers are counted from the history lines this server has read since it
// started (the first scrape reads them all), so they survive `runbook prune`. Claims from the
// workers' own counters (a first claim has no history line, migration 0008): what each worker's
// count grew by since the last scrape, so a worker row removed a day after it stopped takes
// nothing away.
//   runbook_schedule_ticks_total{outcome}       schedule ticks fired, triggered by hand, skipped
//                                                (overlap) and missed (beyond the catch-up window)
// Ticks, like takeovers, are counted from the tick records read since this server started.
import { Counter, Gauge, Registry, type Metric } from "prom-client";
import type { Db } from "../db/connect.js";
import { checkpointHistogram, claimsByWorker, jobCounts, liveWorkerCount, tallyHistory, tallyTicks } from "../sql/metrics.js";
import { CHECKPOINT_BUCKETS_MS } from "../worker-metrics.js";

export class Metrics {
  private readonly registry = new Registry();
  private historyAfter = "0";
  private readonly tally = { claims: 0, takeovers: 0, handovers: 0 };
  private ticksAfter: string | null = null;
  private readonly ticks = { fired: 0, triggered: 0, skipped: 0, missed: 0 };
  /** Each worker's claim count at the last scrape. */
  private readonly claimsSeen = new Map<string, number>();
  private scraping: Promise<void> | null = null;
  private readonly refresh: () => Promise<void>;

  constructor(private readonly db: Db) {
    const registers = [this.registry];
    const jobs = new Gauge({ name: "runbook_jobs", help: "Jobs by runbook and status", labelNames: ["runbook", "status"], registers });
    const checkpoints = new Counter({ name: "runbook_checkpoints_total", help: "Checkpoints committed by the stored jobs, by runbook", labelNames: ["runbook"], registers });
    const claims = new Counter({ name: "runbook_claims_total", help: "Jobs claimed by a worker (lease takeovers included)", registers });
    const takeovers = new Counter({ name: "runbook_lease_takeovers_total", help: "Claims of a running job whose worker's lease had expired", registers });
    const handovers = new Counter({ name: "runbook_handovers_total", help: "Running jobs handed on to another worker at a checkpoint or interrupted (drain, moved slot)", registers });
    const live = new Gauge({ name: "runbook_workers_live", help: "Workers with a fresh heartbeat", registers });
    const ticks = new Counter({ name: "runbook_schedule_ticks_total", help: "Schedule ticks by outcome: fired, triggered by hand, skipped (overlap), missed (beyond the catch-up window)", labelNames: ["outcome"], registers });
    this.registry.registerMetric(new CheckpointLatency(db) as unknown as Metric);
    // One read of the database per scrape, shared by the metrics above (their collect()).
    this.refresh = async () => {
      const [counts, n, t, perWorker, tk] = await Promise.all([
        jobCounts(db.pool),
        liveWorkerCount(db.pool),
        tallyHistory(db.pool, this.historyAfter),
        claimsByWorker(db.pool),
        tallyTicks(db.pool, this.ticksAfter),
      ]);
      this.historyAfter = t.last;
      this.ticksAfter = tk.last;
      for (const outcome of ["fired", "triggered", "skipped", "missed"] as const) this.ticks[outcome] += tk[outcome];
      for (const w of perWorker) {
        this.tally.claims += Math.max(0, w.claims - (this.claimsSeen.get(w.name) ?? 0));
        this.claimsSeen.set(w.name, w.claims);
      }
      this.tally.takeovers += t.takeovers;
      this.tally.handovers += t.handovers;
      jobs.reset();
      checkpoints.reset();
      const perRunbook = new Map<string, number>();
      for (const c of counts) {
        jobs.set({ runbook: c.runbook, status: c.status }, c.jobs);
        perRunbook.set(c.runbook, (perRunbook.get(c.runbook) ?? 0) + c.checkpoints);
      }
      for (const [runbook, n] of perRunbook) checkpoints.inc({ runbook }, n);
      for (const [metric, v] of [[claims, this.tally.claims], [takeovers, this.tally.takeovers], [handovers, this.tally.handovers]] as const) {
        metric.reset();
        metric.inc(v);
      }
      ticks.reset();
      for (const [outcome, v] of Object.entries(this.ticks)) ticks.inc({ outcome }, v);
      live.set(n);
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics as Prometheus text. Concurrent scrapes share one read of the database. */
  async scrape(): Promise<string> {
    this.scraping ??= this.refresh().finally(() => (this.scraping = null));
    await this.scraping;
    return this.registry.metrics();
  }
}

/** A histogram whose buckets are the sum of the worker processes' (runtime/worker-metrics.ts). */
class CheckpointLatency {
  readonly name = "runbook_checkpoint_duration_seconds";
  readonly help = "Time to write a checkpoint, as the worker processes measured it";
  readonly type = "histogram";
  readonly aggregator = "sum";

  constructor(private readonly db: Db) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string | number>; value: number }[] }> {
    const h = await checkpointHistogram(this.db.pool, CHECKPOINT_BUCKETS_MS.length + 1);
    let cumulative = 0;
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = h.counts.map((n, i) => {
      cumulative += n;
      const le = i < CHECKPOINT_BUCKETS_MS.length ? String(CHECKPOINT_BUCKETS_MS[i] / 1000) : "+Inf";
      return { metricName: `${this.name}_bucket`, labels: { le }, value: cumulative };
    });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: h.sumMs / 1000 });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: h.count });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
