// http: JSON both ways, statuses as results, a hanging server ends in a timeout error.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http as request } from "../../runtime/builtins/http.js";

const never = new AbortController().signal;
let server: http.Server;
let base = "";
const seen: { method?: string; type?: string; body: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method, type: req.headers["content-type"], body, headers: req.headers });
      if (req.url === "/hang") return; // never answers
      if (req.url === "/echo") {
        res.writeHead(201, { "content-type": "application/json; charset=utf-8", "x-request-id": "r1" });
        res.end(JSON.stringify({ method: req.method, got: body ? JSON.parse(body) : null }));
      } else if (req.url === "/text") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("plain {not json}");
      } else if (req.url === "/empty-json") {
        res.writeHead(204, { "content-type": "application/json" });
        res.end();
      } else if (req.url === "/big") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("x".repeat(2000));
      } else {
        res.writeHead(404, { "content-type": "application/problem+json" });
        res.end(JSON.stringify({ title: "not found" }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("http", () => {
  it("sends an object body as JSON and parses a JSON response", async () => {
    const r = await request({ method: "post", url: `${base}/echo`, body: { name: "web1", tags: ["a"], n: 1.5, ok: null } }, never);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ method: "POST", got: { name: "web1", tags: ["a"], n: 1.5, ok: null } });
    expect((r.headers as Record<string, string>)["x-request-id"]).toBe("r1");
    expect(seen.at(-1)!.type).toBe("application/json");
  });

  it("sends a string body as it is, with the caller's headers", async () => {
    await request({ method: "PUT", url: `${base}/echo`, headers: { "Content-Type": "application/json", "X-Token": "t" }, body: '{"raw":true}' }, never);
    expect(seen.at(-1)!.body).toBe('{"raw":true}');
    expect(seen.at(-1)!.headers["x-token"]).toBe("t");
  });

  it("keeps a non-JSON body as text; an empty JSON body is null", async () => {
    expect((await request({ method: "GET", url: `${base}/text` }, never)).body).toBe("plain {not json}");
    expect((await request({ method: "GET", url: `${base}/empty-json` }, never)).body).toBe(null);
  });

  it("an error status is a result, not an error", async () => {
    const r = await request({ method: "GET", url: `${base}/missing` }, never);
    expect(r).toMatchObject({ status: 404, body: { title: "not found" } });
  });

  it("a hanging server ends in a clear timeout error", async () => {
    const started = Date.now();
    await expect(request({ method: "GET", url: `${base}/hang` }, never, { timeoutMs: 300 })).rejects.toThrow(`http GET ${base}/hang timed out after 300ms`);
    expect(Date.now() - started).toBeLessThan(30_000); // the server never answers: ended by the timeout
  });

  it("the job's abort signal interrupts a request", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(request({ method: "GET", url: `${base}/hang` }, ac.signal)).rejects.toThrow("was interrupted: the job is stopping");
  });

  it("a refused connection is a clear error", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(request({ method: "GET", url: `http://127.0.0.1:${port}/` }, never)).rejects.toThrow(`http GET http://127.0.0.1:${port}/ failed: ECONNREFUSED`);
  });

  it("caps the response body", async () => {
    await expect(request({ method: "GET", url: `${base}/big` }, never, { maxBodyBytes: 1000 })).rejects.toThrow("the response body is larger than 1000 bytes");
  });

  it("rejects bad arguments", async () => {
    await expect(request({ method: "FETCH", url: base }, never)).rejects.toThrow("http method must be one of");
    await expect(request({ method: "GET", url: "not a url" }, never)).rejects.toThrow('http url "not a url" is not a valid absolute URL');
    await expect(request({ method: "GET", url: "file:///etc/passwd" }, never)).rejects.toThrow("http url must be http: or https:");
    await expect(request({ method: "GET", url: base, body: { a: 1 } }, never)).rejects.toThrow("http GET cannot send a body");
    await expect(request({ method: "GET", url: base, headers: { a: 1 } }, never)).rejects.toThrow("http header a is 1, not a string");
  });
});
