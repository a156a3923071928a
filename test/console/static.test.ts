// The console's files as `runbook serve` sends them: from memory, with a strict content security
// policy, the CLI's human-time module transpiled for the browser, and nothing else reachable.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { humanDuration } from "../../cli/human-time.js";
import { startFixture, type Fixture } from "../server/support.js";

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.close();
});

const get = (path: string) => fetch(f.server.url + path, { redirect: "manual" });

describe("the console's static files", () => {
  it("redirects / to the console and serves its page without a token", async () => {
    const root = await get("/");
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/console/");
    const page = await get("/console/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await page.text()).toContain('<script type="module" src="/console/app.js"></script>');
  });

  it("serves every module the pages import, as JavaScript", async () => {
    const seen = new Set<string>();
    const queue = ["app.js"];
    while (queue.length > 0) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const r = await get(`/console/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      const text = await r.text();
      const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
      for (const [, spec] of text.matchAll(/^import [^"]*"(\.{1,2}\/[^"]+)";$/gm)) queue.push(new URL(spec, `http://x/${dir}`).pathname.slice(1));
    }
    expect([...seen]).toEqual(expect.arrayContaining(["app.js", "api.js", "dom.js", "time.js", "shared/human-time.js", "pages/job.js", "pages/jobs.js", "pages/runbooks.js", "pages/workers.js", "pages/schedules.js", "pages/sign-in.js", "params-form.js"]));
    // The CLI's rule, transpiled: the served module runs as JavaScript and says what the CLI says.
    const shared = await (await get("/console/shared/human-time.js")).text();
    const served = await import(`data:text/javascript;base64,${Buffer.from(shared).toString("base64")}`);
    expect(served.humanDuration(192_000)).toBe(humanDuration(192_000));
    expect(served.humanDuration(192_000)).toBe("3m 12s");
    expect(served.relativeTime(new Date(Date.now() - 7_200_000))).toBe("2h ago");
  });

  it("answers 404 for anything else, files beside the console's included", async () => {
    for (const path of ["/console/nope.js", "/console/%2e%2e/console.ts", "/console/..%2fconsole.ts", "/console/shared/../../app.ts"]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(await r.json()).toHaveProperty("error");
    }
  });
});
