// `runbook token create|list|revoke` and `runbook webhook create|list|revoke`: who may use the
// HTTP API. A token or a webhook URL is printed once; only its hash is stored.
import { parseDuration } from "../runtime/params.js";
import { CliError } from "./errors.js";
import { relativeTime } from "./human-time.js";
import { printJson, printLine, printNote, printTable } from "./print.js";
import { withOperator } from "./session.js";

export async function tokenCreate(name: string, opts: { role: string; json?: boolean }): Promise<void> {
  await withOperator(async (op) => {
    const t = await op.createToken(name, opts.role);
    if (opts.json) printJson(t);
    else {
      printLine(t.token);
      printNote(`token ${t.name} (${t.role}) made: it is shown this once, keep it somewhere safe`);
    }
  });
}

export async function tokenList(opts: { json?: boolean }): Promise<void> {
  await withOperator(async (op) => {
    const rows = await op.tokens();
    if (opts.json) return printJson(rows);
    if (rows.length === 0) return printLine("no tokens (runbook token create NAME --role viewer|operator|admin)");
    printTable(["NAME", "ROLE", "CREATED", "LAST USED"], rows.map((t) => [t.name, t.role, relativeTime(t.created_at), t.last_used_at ? relativeTime(t.last_used_at) : "never"]));
  });
}

export async function tokenRevoke(name: string): Promise<void> {
  await withOperator(async (op) => {
    await op.revokeToken(name);
    printLine(`token ${name} revoked`);
  });
}

export async function webhookCreate(name: string, opts: { runbook: string; param: string[]; expires?: string; url: string; json?: boolean }): Promise<void> {
  const expiresInMs = opts.expires === undefined ? null : parseDuration(opts.expires);
  if (opts.expires !== undefined && expiresInMs === null) throw new CliError(`--expires ${opts.expires} is not a duration (write it like 30d or 12h)`, 2);
  let base: URL;
  try {
    base = new URL(opts.url);
  } catch {
    throw new CliError(`--url ${opts.url} is not a URL (like http://127.0.0.1:8080)`, 2);
  }
  await withOperator(async (op) => {
    const w = await op.createWebhook({ name, runbook: opts.runbook, flags: opts.param, expiresInMs });
    const url = new URL(`hooks/${w.secret}`, base.href.endsWith("/") ? base.href : `${base.href}/`).href;
    if (opts.json) printJson({ name: w.name, url });
    else {
      printLine(url);
      printNote(`webhook ${w.name} starts ${opts.runbook}: POST a JSON object of parameters to the URL above (shown this once; it holds the secret)`);
    }
  });
}

export async function webhookList(opts: { json?: boolean }): Promise<void> {
  await withOperator(async (op) => {
    const rows = await op.webhooks();
    if (opts.json) return printJson(rows);
    if (rows.length === 0) return printLine("no webhooks (runbook webhook create NAME --runbook RB)");
    printTable(
      ["NAME", "RUNBOOK", "PARAMS", "EXPIRES", "LAST USED"],
      rows.map((w) => [w.name, w.runbook, JSON.stringify(w.params), w.expires_at ? relativeTime(w.expires_at) : "never", w.last_used_at ? relativeTime(w.last_used_at) : "never"]),
    );
  });
}

export async function webhookRevoke(name: string): Promise<void> {
  await withOperator(async (op) => {
    await op.revokeWebhook(name);
    printLine(`webhook ${name} revoked`);
  });
}
