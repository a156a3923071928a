// A TCP proxy between one worker and PostgreSQL that the test can cut: a network partition.
// Cut, no byte moves either way on the connections it carries (they hang, as across a real
// partition) and new connections are accepted but never reach the server. Healed, the
// connections from the partition are reset (as TCP gives up on them) and new ones go through.
import * as net from "node:net";

export class Proxy {
  private readonly pairs = new Set<{ client: net.Socket; server: net.Socket | null }>();
  private cut = false;

  private constructor(
    private readonly listener: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    listener.on("connection", (client) => this.accept(client));
  }

  static async start(targetUrl: string): Promise<{ proxy: Proxy; url: string }> {
    const u = new URL(targetUrl);
    const target = { host: u.hostname || "127.0.0.1", port: Number(u.port || 5432) };
    const listener = net.createServer();
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const proxy = new Proxy(listener, target);
    u.hostname = "127.0.0.1";
    u.port = String((listener.address() as net.AddressInfo).port);
    return { proxy, url: u.toString() };
  }

  private accept(client: net.Socket): void {
    const pair = { client, server: null as net.Socket | null };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      pair.server?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);
    if (this.cut) {
      client.pause(); // held, never forwarded
      return;
    }
    const server = net.connect(this.target);
    pair.server = server;
    server.on("error", drop);
    server.on("close", drop);
    client.pipe(server);
    server.pipe(client);
  }

  /** Partition: nothing moves on any connection, and new ones go nowhere. */
  partition(): void {
    this.cut = true;
    for (const { client, server } of this.pairs) {
      client.unpipe();
      server?.unpipe();
      client.pause();
      server?.pause();
    }
  }

  /** Heals: the connections of the partition are reset; new ones go through. */
  heal(): void {
    this.cut = false;
    for (const { client, server } of [...this.pairs]) {
      client.destroy();
      server?.destroy();
    }
  }

  async close(): Promise<void> {
    this.heal();
    await new Promise<void>((r) => this.listener.close(() => r()));
  }
}
