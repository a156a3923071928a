// GET /api/runbooks/:name/versions/:hash: the `.runbook` text each published version was made
// from (the console's Runbooks page shows it), for every role, and 401/404 as for the rest.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, RUNBOOKS, startFixture, type Fixture } from "./support.js";

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.close();
});

describe("a version's sources", () => {
  it("answers each module's file and source text to every role", async () => {
    const [greet] = (await f.op.runbooks()).filter((r) => r.name === "greet");
    for (const token of [f.tokens.viewer, f.tokens.operator, f.tokens.admin]) {
      const r = await call(f.server.url, "GET", `/api/runbooks/greet/versions/${greet.current.hash}`, token);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ runbook: "greet", hash: greet.current.hash, params: greet.current.params });
      expect(Object.keys(r.body.modules)).toEqual(["greet"]);
      expect(r.body.modules.greet.file).toMatch(/greet\.runbook$/);
      expect(r.body.modules.greet.source).toBe(RUNBOOKS["greet.runbook"]);
    }
  });

  it("is 404 for a hash of another runbook or none, and 401 without a token", async () => {
    const [deploy] = (await f.op.runbooks()).filter((r) => r.name === "deploy");
    const other = await call(f.server.url, "GET", `/api/runbooks/greet/versions/${deploy.current.hash}`, f.tokens.viewer);
    expect(other).toMatchObject({ status: 404, body: { error: `runbook greet has no version ${deploy.current.hash}` } });
    expect((await call(f.server.url, "GET", "/api/runbooks/greet/versions/nope", f.tokens.viewer)).status).toBe(404);
    expect((await call(f.server.url, "GET", `/api/runbooks/deploy/versions/${deploy.current.hash}`, null)).status).toBe(401);
  });
});
