// CI's soak: `npm run chaos` for 30 s with 3 workers, as a user runs it, through every fault and
// operator kind at least once (the schedule's first round runs each kind whatever the machine's
// speed; the run lasts longer on a slow machine rather than skipping any). It must report zero
// violations and exit 0. Its report is printed on failure.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { expect, it } from "vitest";
import { ROOT } from "../runtime/process.js";

function soak(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join("test", "chaos", "main.ts"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

it("a 30 s soak through every fault kind keeps every promise", async () => {
  const r = await soak(["--duration", "30s", "--workers", "3", "--seed", "7"]);
  const shown = `${r.stdout}\n--- progress (end) ---\n${r.stderr.split("\n").slice(-40).join("\n")}`;
  expect(r.stdout, shown).not.toMatch(/NOT INJECTED/);
  expect(r.stdout, shown).toMatch(/^chaos: seed 7, 30s, 3 workers: \d+ jobs, \d+ faults of 17 kinds, 0 violations\n$/m);
  expect(r.code, shown).toBe(0);
}, 1_200_000);
