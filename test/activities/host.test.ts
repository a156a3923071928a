// The ActivityHost: loading `use` modules, the context an activity gets, the JSON check on
// results, errors, abort, built-in dispatch and secret masking.
import * as fs from "node:fs";
import * as os from "node:os";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ActivityHost, checkJson, type JobActivities } from "../../runtime/activities.js";
import type { Json } from "../../runtime/abi.js";
import { maskSecrets, mayHoldSecret } from "../../runtime/builtins/asset.js";

const caller = { file: "test/activities/fixtures/main.runbook", uses: { t: "./host.ts" } };

async function job(extra: Partial<Parameters<ActivityHost["forJob"]>[0]> = {}): Promise<{ job: JobActivities; logs: string[] }> {
  const logs: string[] = [];
  const host = new ActivityHost();
  const j = await host.forJob({ jobId: "job-1", log: (m) => logs.push(m), runbooks: [caller], ...extra });
  return { job: j, logs };
}

describe("activity calls", () => {
  it("passes named arguments and a context; logs reach the job's stream", async () => {
    const { job: j, logs } = await job();
    const r = await j.activity("t", "greet", { name: "web1", loud: true });
    expect(r).toEqual({ text: "HELLO WEB1", job: "job-1", attempt: 1 });
    expect(logs).toEqual(["greeting web1"]);
  });

  it("ctx.attempt is the call's retry attempt, per call", async () => {
    const { job: j } = await job();
    expect(await j.activity("t", "greet", { name: "a" }, caller, 3)).toMatchObject({ attempt: 3 });
    expect(await j.activity("t", "greet", { name: "a" }, caller)).toMatchObject({ attempt: 1 });
  });

  it("resolves the alias from the calling runbook when it is given", async () => {
    const { job: j } = await job({ runbooks: [] });
    expect(await j.activity("t", "greet", { name: "x" }, caller)).toMatchObject({ text: "hello x" });
    await expect(j.activity("t", "greet", { name: "x" })).rejects.toThrow("t.greet: no `use ... as t` in the calling runbook");
  });

  it("an alias bound to two modules needs the caller", async () => {
    const other = { file: "elsewhere/x.runbook", uses: { t: "./other.ts" } };
    const { job: j } = await job({ runbooks: [caller, other] });
    await expect(j.activity("t", "greet", { name: "x" })).rejects.toThrow("the alias t names different modules");
    expect(await j.activity("t", "greet", { name: "x" }, caller)).toMatchObject({ text: "hello x" });
  });

  it("the activity gets a copy of its arguments", async () => {
    const { job: j } = await job();
    const args = { list: [1, 2] };
    expect(await j.activity("t", "mutate", args)).toEqual([1, 2, 99]);
    expect(args.list).toEqual([1, 2]);
  });

  it("undefined at the top is null; undefined properties are left out", async () => {
    const { job: j } = await job();
    expect(await j.activity("t", "nothing", {})).toBe(null);
    expect(await j.activity("t", "lies", { kind: "ok" })).toEqual({ fine: true });
  });

  it.each([
    ["date", "t.lies returned a value that is not JSON: vm.created is a Date (return an ISO string)"],
    ["map", "t.lies returned a value that is not JSON: [1] is a Map (return a plain object)"],
    ["nan", "t.lies returned a value that is not JSON: ratio is NaN"],
    ["undefined-in-list", "t.lies returned a value that is not JSON: [1] is undefined (use null)"],
    ["function", "t.lies returned a value that is not JSON: f is a function"],
    ["class", "t.lies returned a value that is not JSON: c is an instance of Conn (return a plain object)"],
    ["cycle", "t.lies returned a value that is not JSON: self is a reference back to itself (a cycle)"],
    ["bigint", "t.lies returned a value that is not JSON: the result is a bigint (return a number or a string)"],
  ])("a result that is not JSON fails with its path: %s", async (kind, message) => {
    const { job: j } = await job();
    await expect(j.activity("t", "lies", { kind })).rejects.toThrow(message);
  });

  it("an activity's error reaches the runbook as a plain Error with its message", async () => {
    const { job: j } = await job();
    const err = await j.activity("t", "fails", { why: "disk full on web1" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("disk full on web1");
    await expect(j.activity("t", "throwsString", {})).rejects.toThrow("plain string");
  });

  it("unknown functions and modules are clear errors", async () => {
    const { job: j } = await job({ runbooks: [caller, { file: "test/activities/fixtures/b.runbook", uses: { gone: "./gone.ts", broken: "./broken.ts" } }] });
    await expect(j.activity("t", "nope", {})).rejects.toThrow("t.nope: ./host.ts exports no function nope");
    await expect(j.activity("t", "notAFunction", {})).rejects.toThrow("t.notAFunction: ./host.ts exports no function notAFunction");
    await expect(j.activity("gone", "f", {})).rejects.toThrow(`activity module ./gone.ts not found (looked for ${path.resolve("test/activities/fixtures/gone.ts")})`);
    await expect(j.activity("", "shell", {})).rejects.toThrow("shell is not a built-in activity");
  });

  it("abort fires the context's signal", async () => {
    const { job: j } = await job();
    const run = j.activity("t", "waitForAbort", {});
    setTimeout(() => j.abort("the lease was lost"), 50);
    await expect(run).rejects.toThrow("stopped: the lease was lost");
    expect(j.signal.aborted).toBe(true);
  });

  it("dispatches built-ins with module \"\"", async () => {
    const { job: j } = await job();
    expect(await j.activity("", "exec", { argv: ["echo", "hi"], timeout: null, env: null })).toEqual({ code: 0, stdout: "hi\n", stderr: "" });
    await expect(j.activity("", "sql", { query: "SELECT 1", params: null })).rejects.toThrow("sql is not available here: no runbook database is connected");
  });
});

describe("module loading", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rb-host-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("resolves use paths from the runbook's folder under baseDir", async () => {
    fs.mkdirSync(path.join(dir, "runbooks"));
    fs.writeFileSync(path.join(dir, "runbooks", "ops.ts"), "export function v(): number { return 1; }\n");
    const host = new ActivityHost({ baseDir: dir });
    const j = await host.forJob({ jobId: "j", log: () => {}, runbooks: [{ file: "runbooks/a.runbook", uses: { ops: "./ops.ts" } }] });
    expect(await j.activity("ops", "v", {})).toBe(1);
  });

  // Under tsx, as the CLI and the worker run (vitest has a module cache of its own).
  it.each([["commonjs", false], ["ESM", true]])("reloads a changed module (%s package)", (_kind, esm) => {
    const sub = fs.mkdtempSync(path.join(dir, "reload-"));
    if (esm) fs.writeFileSync(path.join(sub, "package.json"), '{"type":"module"}\n');
    fs.writeFileSync(path.join(sub, "ops.ts"), "export function v(): number { return 1; }\n");
    const hostUrl = pathToFileURL(path.resolve("runtime/activities.ts")).href;
    fs.writeFileSync(
      path.join(sub, "main.mts"),
      `import * as fs from "node:fs";
import { ActivityHost } from ${JSON.stringify(hostUrl)};
const host = new ActivityHost({ baseDir: ${JSON.stringify(sub)} });
const j = await host.forJob({ jobId: "j", log: () => {}, runbooks: [{ file: "a.runbook", uses: { ops: "./ops.ts" } }] });
const first = await j.activity("ops", "v", {});
fs.writeFileSync(${JSON.stringify(path.join(sub, "ops.ts"))}, "export function v(): number { return 2; }\\n");
const later = new Date(Date.now() + 5000);
fs.utimesSync(${JSON.stringify(path.join(sub, "ops.ts"))}, later, later);
console.log(JSON.stringify([first, await j.activity("ops", "v", {})]));
`,
    );
    const out = execFileSync(process.execPath, ["--import", "tsx", path.join(sub, "main.mts")], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([1, 2]);
  });

  it("a module that fails to load is a one-line error", async () => {
    const file = path.join(dir, "throws.ts");
    fs.writeFileSync(file, 'throw new Error("no config\\nsecond line");\nexport function f() {}\n');
    const host = new ActivityHost({ baseDir: dir });
    const j = await host.forJob({ jobId: "j", log: () => {}, runbooks: [{ file: "x.runbook", uses: { m: "./throws.ts" } }] });
    await expect(j.activity("m", "f", {})).rejects.toThrow(/^activity module \.\/throws\.ts failed to load: no config$/);
  });
});

describe("JSON check and masking helpers", () => {
  it("checkJson keeps plain values and rejects the rest", () => {
    const v = { a: [1, "x", true, null, { b: Object.create(null) }] };
    expect(checkJson(v, "f")).toEqual({ a: [1, "x", true, null, { b: {} }] });
    expect(() => checkJson({ x: Infinity }, "f")).toThrow("f returned a value that is not JSON: x is Infinity");
    const shared = { k: 1 };
    expect(checkJson([shared, shared], "f")).toEqual([{ k: 1 }, { k: 1 }]); // shared, not a cycle
  });

  it("maskOutcome masks a job's result and error", async () => {
    const host = new ActivityHost({ query: async () => ({ rows: [] }) });
    const j = await host.forJob({ jobId: "j", log: () => {} });
    const error = { message: "login failed", runbook: "r", file: "r.runbook", line: 1, column: 1, data: null };
    expect(j.maskOutcome({ kind: "failed", error })).toEqual({ kind: "failed", error });
    (j.secrets as Set<string>).add("pa55word-x");
    expect(j.maskOutcome({ kind: "completed", result: { pw: "pa55word-x" } })).toEqual({ kind: "completed", result: { pw: "***" } });
    expect(j.maskOutcome({ kind: "failed", error: { ...error, message: "login failed with pa55word-x", data: ["pa55word-x"] } })).toEqual({
      kind: "failed",
      error: { ...error, message: "login failed with ***", data: ["***"] },
    });
    expect(j.maskOutcome({ kind: "sleep", ms: 5 })).toEqual({ kind: "sleep", ms: 5 });
  });

  it("maskSecrets replaces every occurrence, in strings and keys, also JSON-escaped", () => {
    const secrets = ["hunter2-pass", 'p"q\\r-long'];
    expect(maskSecrets({ line: "login with hunter2-pass now", ["hunter2-pass"]: ["x hunter2-pass"] }, secrets)).toEqual({
      line: "login with *** now",
      "***": ["x ***"],
    });
    expect(maskSecrets(`{"pw":${JSON.stringify('p"q\\r-long')}}`, secrets)).toBe('{"pw":"***"}');
    expect(maskSecrets("abc", ["ab"])).toBe("abc"); // too short to mask safely
  });
});

describe("mayHoldSecret", () => {
  it("is true only for values with a string (or key) long enough to be a secret", () => {
    const cannot: Json[] = [null, 42, true, "ok", [1, "abc"], { a: 1, b: [false] }];
    const can: Json[] = ["hunter2", ["x", "secret"], { nested: { pw: "long enough" } }, { longkey: 1 }];
    for (const v of cannot) expect(mayHoldSecret(v), JSON.stringify(v)).toBe(false);
    for (const v of can) expect(mayHoldSecret(v), JSON.stringify(v)).toBe(true);
  });
});
