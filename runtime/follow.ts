// Following a job: its committed stream records in order, then its ending. Reads the database
// (a job may run on any worker); checkpoints never NOTIFY, so this polls, and `poke()` lets an
// in-process worker say "something was committed" for an immediate read.
import type { Queryable, JobRow, StreamRow } from "./rows.js";
import { FINISHED } from "./rows.js";
import { getJob } from "./sql/enqueue.js";
import { branchStreamsAfter, streamsAfter } from "./sql/inspect.js";

export interface FollowOptions {
  /** Called for each committed record, in order. */
  onRecord(r: StreamRow): void;
  /** Called when the job's status changes (e.g. to say it waits for a signal). */
  onStatus?(job: JobRow): void;
  pollMs?: number;
  /** Stop following when this resolves (e.g. on SIGINT). */
  until?: Promise<unknown>;
}

export class Follower {
  private wake: (() => void) | null = null;
  private poked = false;

  /** Read again now (an in-process worker just committed something). */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** Resolves with the job's final row (or null if following was cut short by `until`). */
  async follow(db: Queryable, id: string, o: FollowOptions): Promise<JobRow | null> {
    let seq = 0;
    // The records of its `parallel for` branches come along, marked with their element.
    const branchSeq = new Map<string, number>();
    const branchRecords = async () => {
      for (const r of await branchStreamsAfter(db, id, branchSeq)) {
        branchSeq.set(r.job_id, r.seq);
        o.onRecord(r);
      }
    };
    let lastStatus = "";
    let cut = false;
    o.until?.then(() => {
      cut = true;
      this.wake?.();
    });
    for (;;) {
      this.poked = false;
      const job = await getJob(db, id);
      if (!job) throw new Error(`no job ${id}`);
      for (const r of await streamsAfter(db, id, seq)) {
        seq = r.seq;
        o.onRecord(r);
      }
      await branchRecords();
      if (job.status !== lastStatus) {
        lastStatus = job.status;
        o.onStatus?.(job);
      }
      // The final status and the last records commit together: read once more after it.
      if (FINISHED.includes(job.status)) {
        for (const r of await streamsAfter(db, id, seq)) o.onRecord(r);
        await branchRecords();
        return job;
      }
      if (cut) return null;
      if (!this.poked) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, o.pollMs ?? 100);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }
}
