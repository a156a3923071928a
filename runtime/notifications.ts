// The worker's LISTEN connection on channel `runbook`, kept open apart from the pool (a pooled
// client would be lent out to queries). Payloads: `jobs` (new or woken jobs), `deploy` and
// `drain:<name>` (the deployment changed, a worker stopped or drains), `control` (an operator
// suspend or stop for a running job). A lost connection is reopened after a second, each time
// to where the database is now (the embedded one may have moved to another port); until then the
// worker's polling covers what it misses, so a failure here is logged, never fatal.
import pg from "./db/pg.js";

export interface NotificationHandlers {
  /** The deployment or the set of live workers changed. */
  deploy(): void;
  /** An operator asked to suspend or stop some running job. */
  control(): void;
  /** Jobs were queued or woken (any other payload). */
  jobs(): void;
}

export class NotificationListener {
  private client: pg.Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(
    /** Where to connect, looked up at each (re)connection. */
    private readonly connection: () => pg.ClientConfig,
    private readonly workerName: string,
    private readonly pollMs: number,
    private readonly log: (line: string) => void,
    private readonly on: NotificationHandlers,
    /** True when a failure to connect was the database being unreachable, reported elsewhere. */
    private readonly unreachable: (e: unknown) => boolean = () => false,
  ) {}

  async listen(): Promise<void> {
    if (this.closing) return;
    const client = new pg.Client({ ...this.connection(), application_name: `runbook-listen:${this.workerName}` });
    client.on("error", () => this.relisten(client));
    client.on("end", () => this.relisten(client));
    client.on("notification", (n) => {
      if (n.payload === "deploy" || n.payload?.startsWith("drain:")) this.on.deploy();
      else if (n.payload === "control") this.on.control();
      else this.on.jobs();
    });
    try {
      await client.connect();
      await client.query("LISTEN runbook");
      this.client = client;
    } catch (e) {
      if (!this.unreachable(e)) this.log(`LISTEN failed (${(e as Error).message}); polling every ${this.pollMs} ms`);
      this.relisten(client);
    }
  }

  /**
   * No reconnecting from now on. The open connection stays: a stopping worker still hears an
   * operator's stop for the jobs it is finishing.
   */
  stopReconnecting(): void {
    this.closing = true;
    if (this.retry) clearTimeout(this.retry);
  }

  async close(): Promise<void> {
    this.stopReconnecting();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private relisten(client: pg.Client): void {
    if (this.client === client) this.client = null;
    client.end().catch(() => undefined);
    if (this.closing || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.listen();
    }, 1_000);
  }
}
