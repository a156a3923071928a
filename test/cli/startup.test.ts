// What `runbook jobs` and `runbook --version` load when they start (issue 15: fast enough for
// scripts; bench/startup.ts measures the time, this pins what was cut so it stays cut): pg
// without Node's fetch (undici: ~20 ms on Node 20, runtime/db/pg.ts) and with no `navigator`
// left behind, and `jobs` without the operator API's other kinds, compiling or following.
// Real processes of the real bin, from dist/ when it is current and from the sources.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../runtime/process.js";
import { freshDatabaseUrl } from "../setup/db.js";

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-startup-"));
  env = { ...process.env, DATABASE_URL: await freshDatabaseUrl() };
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `runbook ARGS` with a probe: every module URL the ESM loader loads is appended to a file
 * (by a loader hook, which runs on its own thread), and at exit the process says whether Node's
 * fetch was loaded and whether a `navigator` is defined.
 */
function probe(args: string[], fromSource: boolean) {
  const log = path.join(dir, `loaded-${args[0]}-${fromSource ? "src" : "dist"}.txt`);
  fs.rmSync(log, { force: true });
  const hook = `import{appendFileSync}from"node:fs";export async function load(u,c,n){appendFileSync(${JSON.stringify(log)},u+"\\n");return n(u,c)}`;
  const setup =
    `import{register}from"node:module";register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});` +
    `process.on("exit",()=>process.stderr.write("\\nPROBE "+JSON.stringify({undici:process.moduleLoadList.some((m)=>m.includes("undici")),navigator:typeof globalThis.navigator})+"\\n"))`;
  const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(setup)}`, BIN, ...args], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...env, RUNBOOK_FROM_SOURCE: fromSource ? "1" : "" },
  });
  const seen = JSON.parse(/PROBE (.*)/.exec(r.stderr)?.[1] ?? "null") as { undici: boolean; navigator: string } | null;
  const loaded = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seen, loaded };
}

describe.each([false, true])("start-up (from the sources: %s)", (fromSource) => {
  it("lists jobs without loading Node's fetch, the operator's other kinds, compiling or following", () => {
    const r = probe(["jobs", "--json"], fromSource);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.seen).toEqual({ undici: false, navigator: "undefined" });
    // It did load the driver and the jobs kind: the probe sees what it should.
    expect(r.loaded.some((u) => /\/runtime\/db\/pg\.(js|ts)$/.test(u))).toBe(true);
    expect(r.loaded.some((u) => /\/runtime\/operator\/jobs\.(js|ts)$/.test(u))).toBe(true);
    const unused = /\/runtime\/operator\/(fleet|access|runbooks|schedules)\.|\/runtime\/(follow|publish)\.|\/cli\/(bundles|follow)\.|\/compiler\/index\.|\/node_modules\/pg\/esm\//;
    expect(r.loaded.filter((u) => unused.test(u))).toEqual([]);
  });

  it("prints its version without loading the database driver", () => {
    const r = probe(["--version"], fromSource);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(r.seen).toEqual({ undici: false, navigator: "undefined" });
    expect(r.loaded.filter((u) => /\/node_modules\/pg|\/runtime\/db\//.test(u))).toEqual([]);
  });
});
