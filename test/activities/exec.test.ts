// exec: argv only (no shell), process-group kill on timeout and abort, capped output.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exec } from "../../runtime/builtins/exec.js";

const never = new AbortController().signal;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rb-exec-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

async function waitFor(file: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8").trim() !== "") return fs.readFileSync(file, "utf8").trim();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never appeared`);
}

describe("exec", () => {
  it("runs argv without a shell", async () => {
    const r = await exec({ argv: ["echo", "$HOME", "; rm -rf /", "`id`"] }, never);
    expect(r).toEqual({ code: 0, stdout: "$HOME ; rm -rf / `id`\n", stderr: "" });
  });

  it("returns the exit code and both streams", async () => {
    const r = await exec({ argv: ["sh", "-c", "echo out; echo err >&2; exit 3"] }, never);
    expect(r).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
  });

  it("merges env over the worker's", async () => {
    const r = await exec({ argv: ["sh", "-c", 'echo "$RB_A-$PATH"'], env: { RB_A: "one" } }, never);
    expect(r.stdout).toBe(`one-${process.env.PATH}\n`);
  });

  it("a missing executable is a clear error", async () => {
    await expect(exec({ argv: ["no-such-program-rb"] }, never)).rejects.toThrow('exec "no-such-program-rb": no such executable (not found on PATH)');
  });

  it("rejects bad arguments", async () => {
    await expect(exec({ argv: [] }, never)).rejects.toThrow("exec needs a non-empty list of strings");
    await expect(exec({ argv: ["echo", 1] }, never)).rejects.toThrow("exec argv[1] is 1, not a string");
    await expect(exec({ argv: ["echo"], env: { A: 1 } }, never)).rejects.toThrow("exec env A is 1, not a string");
    await expect(exec({ argv: ["echo"], timeout: -1 }, never)).rejects.toThrow("exec timeout must be a duration");
  });

  it("kills a command that ignores SIGTERM, and its whole process group, at the timeout", async () => {
    const pids = path.join(dir, "pids");
    // The leader and a grandchild both ignore SIGTERM and would run for 60 s.
    const script = `trap '' TERM; (trap '' TERM; sleep 60 & echo $! > ${pids}.child; wait) & echo $$ > ${pids}; wait`;
    const started = Date.now();
    const run = exec({ argv: ["sh", "-c", script], timeout: 300 }, never, { killGraceMs: 400 });
    const leader = Number(await waitFor(pids));
    const grandchild = Number(await waitFor(`${pids}.child`));
    expect(alive(leader) && alive(grandchild)).toBe(true);
    await expect(run).rejects.toThrow('exec "sh" timed out after 300ms; its process group was killed');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(650); // timeout + grace: SIGTERM alone did not do it
    expect(took).toBeLessThan(50_000); // killed, not waited for (the sleep runs 60 s)
    expect(alive(leader)).toBe(false);
    expect(alive(grandchild)).toBe(false);
  });

  it("a command that honors SIGTERM ends without waiting for the grace period", async () => {
    const started = Date.now();
    await expect(exec({ argv: ["sleep", "60"], timeout: 200 }, never, { killGraceMs: 30_000 })).rejects.toThrow("timed out after 200ms");
    expect(Date.now() - started).toBeLessThan(30_000); // before the grace would have run out
  });

  it("the job's abort signal kills it", async () => {
    const ac = new AbortController();
    const run = exec({ argv: ["sleep", "60"] }, ac.signal, { killGraceMs: 200 });
    setTimeout(() => ac.abort(), 100);
    await expect(run).rejects.toThrow('exec "sleep" was interrupted: the job is stopping');
    await expect(exec({ argv: ["echo"] }, ac.signal)).rejects.toThrow("not started, the job is stopping");
  });

  it("caps each stream with a clear marker", async () => {
    const r = await exec({ argv: ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo tail >&2"] }, never);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(1024 * 1024 + "\n[... output truncated at 1 MiB]".length);
    expect(r.stdout.endsWith("aaaa\n[... output truncated at 1 MiB]")).toBe(true);
    expect(r.stderr).toBe("tail\n");
  });

  it("does not wait forever for a background process holding the pipes", async () => {
    const started = Date.now();
    const r = await exec({ argv: ["sh", "-c", "sleep 60 & echo started"] }, never);
    expect(r.stdout).toBe("started\n");
    expect(Date.now() - started).toBeLessThan(50_000); // not held until the background sleep ends
  });
});
