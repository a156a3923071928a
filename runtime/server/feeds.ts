// Many people following one job's output (the console's job page, `curl ...?follow=1`) cost the
// database one poller, not one each: a JobFeed per followed job reads its new records and status
// every `pollMs` and hands them to every subscriber. A subscriber joining late reads what came
// before from the database itself, page by page, while the feed's news waits in its buffer; the
// buffer is then played from after the last record read, so nothing is lost or repeated. The
// feed stops when its last subscriber leaves or the job ends.
import type { JobRow, Queryable, StreamRow } from "../rows.js";
import { FINISHED } from "../rows.js";
import { getJob } from "../sql/enqueue.js";
import { streamsAfter } from "../sql/inspect.js";

export type FeedEvent = { kind: "record"; record: StreamRow } | { kind: "status"; job: JobRow } | { kind: "end"; job: JobRow } | { kind: "error"; message: string };

export interface Subscription {
  /** Leave the feed (the subscriber's connection closed). */
  close(): void;
}

const BACKLOG_PAGE = 1000;

class JobFeed {
  private readonly subscribers = new Set<(e: FeedEvent) => void>();
  private seq = 0;
  private status = "";
  private running = false;
  private stopped = false;

  constructor(
    private readonly db: Queryable,
    readonly id: string,
    private readonly pollMs: number,
    private readonly onIdle: () => void,
  ) {}

  /** Its poller has finished: a new subscriber needs a new feed. */
  get ended(): boolean {
    return this.stopped;
  }

  add(sink: (e: FeedEvent) => void): void {
    this.subscribers.add(sink);
    if (!this.running) {
      this.running = true;
      void this.loop();
    }
  }

  remove(sink: (e: FeedEvent) => void): void {
    this.subscribers.delete(sink);
  }

  private emit(e: FeedEvent): void {
    for (const s of this.subscribers) s(e);
  }

  private async loop(): Promise<void> {
    try {
      while (this.subscribers.size > 0 && !this.stopped) {
        const job = await getJob(this.db, this.id);
        if (!job) {
          this.emit({ kind: "error", message: `no job ${this.id}` });
          break;
        }
        for (const r of await streamsAfter(this.db, this.id, this.seq)) {
          this.seq = r.seq;
          this.emit({ kind: "record", record: r });
        }
        if (job.status !== this.status) {
          this.status = job.status;
          this.emit({ kind: "status", job });
        }
        // The final status and the last records commit together: read once more after it.
        if (FINISHED.includes(job.status)) {
          for (const r of await streamsAfter(this.db, this.id, this.seq)) {
            this.seq = r.seq;
            this.emit({ kind: "record", record: r });
          }
          this.emit({ kind: "end", job });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      }
    } catch (e) {
      this.emit({ kind: "error", message: (e as Error).message });
    } finally {
      this.stopped = true;
      this.onIdle();
    }
  }
}

export class Feeds {
  private readonly feeds = new Map<string, JobFeed>();

  constructor(
    private readonly db: Queryable,
    private readonly pollMs = 250,
  ) {}

  /** Feeds polling now (for tests and the bench). */
  get active(): number {
    return this.feeds.size;
  }

  /**
   * Calls `sink` with every record of job `id` after `after`, in order, then with status
   * changes and the end. Records come before the status event that follows them.
   */
  subscribe(id: string, after: number, sink: (e: FeedEvent) => void): Subscription {
    let closed = false;
    let live = false;
    let last = after;
    const buffered: FeedEvent[] = [];
    const deliver = (e: FeedEvent) => {
      if (closed) return;
      if (e.kind === "record") {
        if (e.record.seq <= last) return;
        last = e.record.seq;
      }
      sink(e);
      if (e.kind === "end" || e.kind === "error") closed = true;
    };
    const onEvent = (e: FeedEvent) => (live ? deliver(e) : buffered.push(e));
    const feed = this.feedFor(id);
    // Registered before reading the backlog: a record the feed fetches from now on is buffered,
    // and one it fetched before was committed before our read below, so the read has it.
    feed.add(onEvent);
    void (async () => {
      try {
        for (;;) {
          const page = await streamsAfter(this.db, id, last, undefined, BACKLOG_PAGE);
          for (const r of page) deliver({ kind: "record", record: r });
          if (page.length < BACKLOG_PAGE || closed) break;
        }
      } catch (e) {
        deliver({ kind: "error", message: (e as Error).message });
      }
      live = true;
      for (const e of buffered.splice(0)) deliver(e);
    })();
    return {
      close: () => {
        closed = true;
        feed.remove(onEvent);
      },
    };
  }

  private feedFor(id: string): JobFeed {
    const existing = this.feeds.get(id);
    if (existing && !existing.ended) return existing;
    const feed = new JobFeed(this.db, id, this.pollMs, () => {
      if (this.feeds.get(id) === feed) this.feeds.delete(id);
    });
    this.feeds.set(id, feed);
    return feed;
  }
}
