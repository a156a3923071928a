// Starting the HTTP server of `runbook serve` (hono on @hono/node-server; docs/server.md says
// why hono). Binds 127.0.0.1 unless told otherwise: the API steers production jobs.
import { serve as listen } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Operator } from "../operator/index.js";
import { createApp, type AppOptions } from "./app.js";
import type { Feeds } from "./feeds.js";

export interface Served {
  url: string;
  feeds: Feeds;
  close(): Promise<void>;
}

export async function serve(op: Operator, o: { host?: string; port?: number } & AppOptions = {}): Promise<Served> {
  const { app, feeds } = createApp(op, o);
  const host = o.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof listen>>((resolve, reject) => {
    const s = listen({ fetch: app.fetch, hostname: host, port: o.port ?? 8080 }, () => resolve(s));
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${shown}:${port}`,
    feeds,
    close: () =>
      new Promise<void>((resolve) => {
        // Followers' streams stay open until their job ends: end them now.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
