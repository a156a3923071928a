// Shared by the server tests: a database with published runbooks, a server on a free port,
// tokens of every role, and HTTP helpers.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compileBundles } from "../../cli/bundles.js";
import type { Db } from "../../runtime/db/connect.js";
import { Operator } from "../../runtime/operator/index.js";
import { serve, type Served } from "../../runtime/server/serve.js";
import { freshDb } from "../setup/db.js";

export const RUNBOOKS: Record<string, string> = {
  "greet.runbook": `runbook greet(name: string, times: number = 2) -> number {
  for i in 1..times {
    output "hello \${name} \${i}"
  }
  checkpoint "greeted"
  let ok = wait "approve" timeout 120s
  output "approved: \${ok} for \${name}"
  return times
}
`,
  "deploy.runbook": `runbook deploy(service: string, region: string = "eu", dry: bool = false) -> string {
  output "deploying \${service} to \${region} (dry: \${dry})"
  return "\${service}@\${region}"
}
`,
};

export interface Fixture {
  db: Db;
  op: Operator;
  server: Served;
  tokens: { viewer: string; operator: string; admin: string };
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-server-"));
  for (const [file, text] of Object.entries(RUNBOOKS)) fs.writeFileSync(path.join(dir, file), text);
  const db = await freshDb(8);
  const op = new Operator(db, "test");
  await op.publish((await compileBundles([dir])).bundles);
  fs.rmSync(dir, { recursive: true, force: true });
  const server = await serve(op, { host: "127.0.0.1", port: 0, followPollMs: 50, log: () => undefined });
  const tokens = {
    viewer: (await op.createToken("vera", "viewer")).token,
    operator: (await op.createToken("otto", "operator")).token,
    admin: (await op.createToken("ada", "admin")).token,
  };
  return {
    db,
    op,
    server,
    tokens,
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** A JSON request with `token` as Bearer (none when null). */
export async function call(base: string, method: string, url: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const h: Record<string, string> = { ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h["content-type"] ??= "application/json";
  const r = await fetch(base + url, { method, headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (metrics)
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
