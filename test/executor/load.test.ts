// Loading compiled module text into a CompiledRunbook.
import { describe, expect, it } from "vitest";
import { codeHash, loadRunbook, ModuleLoadError } from "../../runtime/load.js";

const js = (name: string) =>
  `export const runbook = { name: ${JSON.stringify(name)}, file: "${name}.runbook", params: [], returns: null, canSuspend: false, calls: [], uses: {}, live: {}, positions: {},
     async step(frame) { frame.pc = 1; return { kind: "return", value: "from ${name}" }; } };`;

describe("loadRunbook", () => {
  it("imports the module text and returns its runbook", async () => {
    const r = await loadRunbook(js("hello"));
    expect(r.name).toBe("hello");
    const frame = { runbook: "hello", pc: 0, locals: {} };
    expect(await r.step(frame, undefined as never, undefined)).toEqual({ kind: "return", value: "from hello" });
  });

  it("imports the same text once (cached by content hash)", async () => {
    const a = await loadRunbook(js("cached"));
    const b = await loadRunbook(js("cached"));
    expect(a).toBe(b);
    expect(codeHash(js("cached"))).toMatch(/^[0-9a-f]{64}$/);
    expect(await loadRunbook(js("other"))).not.toBe(a);
  });

  it("rejects text that does not load, or lacks a usable runbook, with one clear line", async () => {
    await expect(loadRunbook("export const = ;", "deploy@abc123")).rejects.toThrow(/^deploy@abc123 failed to load: /);
    await expect(loadRunbook("export const other = 1;")).rejects.toThrow("compiled runbook does not export `runbook`");
    await expect(loadRunbook("export const runbook = 3;")).rejects.toThrow("compiled runbook exports a `runbook` that is not an object");
    await expect(loadRunbook('export const runbook = { name: "x", live: {}, positions: {}, params: [] };')).rejects.toThrow("compiled runbook exports runbook x without a step function");
    await expect(loadRunbook("throw new Error('boom at load');")).rejects.toBeInstanceOf(ModuleLoadError);
    await expect(loadRunbook("throw new Error('boom at load');")).rejects.toThrow("compiled runbook failed to load: boom at load");
  });
});
