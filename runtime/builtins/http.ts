// `http(method, url, headers?, body?)`: one HTTP request with fetch, returning
// {status, headers, body}. A status of 4xx/5xx is a result, not an error; a network failure, a
// timeout or an oversized response is an error. Objects and lists are sent as JSON; a response
// whose content type is JSON comes back parsed, any other as text.
import type { Json } from "../abi.js";
import { formatMs, stringMap } from "./args.js";

export interface HttpOptions {
  /** Whole-request timeout (default 30 s, or env RUNBOOK_HTTP_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Largest response body read (default 10 MiB). */
  maxBodyBytes?: number;
}

export interface HttpArgs {
  method: Json;
  url: Json;
  headers?: Json;
  body?: Json;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export async function http(args: HttpArgs, signal: AbortSignal, options: HttpOptions = {}): Promise<{ [key: string]: Json }> {
  const method = typeof args.method === "string" ? args.method.toUpperCase() : "";
  if (!METHODS.has(method)) throw new Error(`http method must be one of ${[...METHODS].join(", ")}, got ${JSON.stringify(args.method)}`);
  const url = checkUrl(args.url);
  const headers = stringMap(args.headers, "http header", "http headers");
  const timeoutMs = options.timeoutMs ?? (Number(process.env.RUNBOOK_HTTP_TIMEOUT_MS) || 30_000);
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024;

  let body: string | undefined;
  if (args.body !== undefined && args.body !== null) {
    if (method === "GET" || method === "HEAD") throw new Error(`http ${method} cannot send a body`);
    if (typeof args.body === "string") body = args.body;
    else {
      body = JSON.stringify(args.body);
      if (!hasHeader(headers, "content-type")) headers["content-type"] = "application/json";
    }
  }

  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  const what = `http ${method} ${url}`;
  const failure = (err: unknown): Error => {
    if (timeout.aborted) return new Error(`${what} timed out after ${formatMs(timeoutMs)}`);
    if (signal.aborted) return new Error(`${what} was interrupted: the job is stopping`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    return new Error(`${what} failed: ${detail}`);
  };

  let response: Response;
  try {
    response = await fetch(url, { method, headers, body, signal: both, redirect: "follow" });
  } catch (err) {
    throw failure(err);
  }
  let text: string;
  try {
    text = await readCapped(response, maxBody, what);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw err;
    throw failure(err);
  }
  const outHeaders: { [key: string]: Json } = {};
  response.headers.forEach((value, name) => {
    outHeaders[name] = value;
  });
  const type = response.headers.get("content-type") ?? "";
  let parsed: Json = text;
  if (/\bjson\b|\+json/i.test(type)) {
    if (text.trim() === "") parsed = null;
    else {
      try {
        parsed = JSON.parse(text) as Json;
      } catch {
        parsed = text; // declared JSON but is not: hand over the text rather than fail
      }
    }
  }
  return { status: response.status, headers: outHeaders, body: parsed };
}

class BodyTooLarge extends Error {}

async function readCapped(response: Response, max: number, what: string): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(`${what}: the response body is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function checkUrl(v: Json): string {
  if (typeof v !== "string") throw new Error(`http url must be a string, got ${JSON.stringify(v)}`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`http url ${JSON.stringify(v)} is not a valid absolute URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`http url must be http: or https:, got ${u.protocol}`);
  return u.toString();
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}
