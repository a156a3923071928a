// The on-disk declaration cache (compiler/activity-cache.ts) is invisible: a `runbook check` in a
// fresh process gives the same answer with the cache empty, warm, stale or corrupt. Real CLI
// processes, since the cache exists for exactly that case.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runbook } from "../runtime/process.js";

const project = fs.mkdtempSync(path.join(os.tmpdir(), "rb-cache-"));
const cache = path.join(project, "cache");
const env = { RUNBOOK_CACHE_DIR: cache };

const check = () => runbook(["check", "deploy.runbook"], { cwd: project, env });
const entries = () => (fs.existsSync(path.join(cache, "activities")) ? fs.readdirSync(path.join(cache, "activities")).filter((f) => f.endsWith(".json")) : []);

beforeAll(() => {
  fs.writeFileSync(path.join(project, "package.json"), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(project, "types.ts"), "export interface Release { id: string; version: string }\n");
  fs.writeFileSync(
    path.join(project, "ops.ts"),
    `import type { Release } from "./types.js";
export async function release(args: { app: string }): Promise<Release> {
  return { id: args.app, version: "1" };
}
`,
  );
  fs.writeFileSync(
    path.join(project, "deploy.runbook"),
    `use "./ops.ts" as ops

runbook deploy(app: string) -> string {
  let r = ops.release(app: app)
  return r.version
}
`,
  );
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

describe("the activity declaration cache", () => {
  it("is filled by a first check and gives the same answer when warm", async () => {
    const first = await check();
    expect(first.code, first.stderr).toBe(0);
    expect(entries().length).toBe(1);
    const warm = await check();
    expect(warm).toMatchObject({ code: 0, stderr: first.stderr });
  });

  it("never serves a stale entry when a file the module imports changes", async () => {
    fs.writeFileSync(path.join(project, "types.ts"), "export interface Release { id: string; tag: string }\n");
    const after = await check();
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("`r` has no field `version`");
    fs.writeFileSync(path.join(project, "types.ts"), "export interface Release { id: string; version: string }\n");
    expect((await check()).code).toBe(0);
  });

  it("treats a corrupt entry as a miss, and a deleted cache as empty", async () => {
    for (const f of entries()) fs.writeFileSync(path.join(cache, "activities", f), "{ not json");
    const corrupt = await check();
    expect(corrupt.code, corrupt.stderr).toBe(0);
    fs.writeFileSync(path.join(project, "ops.ts"), "export async function release(args: { app: string }): Promise<Date> { return new Date(); }\n");
    fs.rmSync(cache, { recursive: true, force: true });
    const changed = await check();
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain("Date is not serializable");
  });
});
