// The checker never throws and never points outside the file, whatever the parser hands it:
// mutated versions of real runbooks (deleted, duplicated and swapped pieces) go through
// checkSources as one project.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { ActivityModule } from "../../compiler/activities.js";
import { checkSources } from "../../compiler/program.js";
import { T } from "../../compiler/types.js";

const repo = path.resolve(import.meta.dirname, "../..");

function runbookFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".runbook"))
    .map((e) => path.join(e.parentPath, e.name));
}

const seeds = [...runbookFiles(path.join(repo, "runbooks")), ...runbookFiles(path.join(repo, "test/diagnostics/cases"))]
  .map((f) => fs.readFileSync(f, "utf8"))
  .filter((t) => !t.includes("\u0000"));

/** A module with one activity of every shape, so `x.fn()` calls resolve somewhere. */
const loader = (_file: string, usePath: string, alias: string): ActivityModule => ({
  alias,
  path: usePath,
  functions: new Map(
    ["createVm", "configureVm", "healthCheck", "backupDatabase"].map((name) => [
      name,
      {
        module: alias,
        name,
        params: [{ name: "name", type: T.string, optional: false }, { name: "id", type: T.optional(T.string), optional: true }],
        returns: T.record({ id: T.string, healthy: T.bool, path: T.string }),
        declaration: { file: "x.ts", start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 2, offset: 1 } },
      },
    ]),
  ),
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be reproduced. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ["{", "}", "(", ")", "[", "]", ",", ":", "\n", "let x = ", "return", "break", "wait \"s\"", "await j", "?.", "??", "..", "+", "-", "not ", "and", "checkpoint", "sleep 1s", "retry {", "try {", "catch e {", "start ", "x.y(", "\"${", "null", "1h30m", "-> number", "for a, b in ", "if ", "else ", "= ", "+= ", "infra.createVm(", "WriteLog(", "len(", "max(", "range(1, 2)"];

function mutate(text: string, random: () => number): string {
  let t = text;
  const n = 1 + Math.floor(random() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(random() * (t.length + 1));
    const len = Math.floor(random() * 12);
    switch (Math.floor(random() * 4)) {
      case 0:
        t = t.slice(0, at) + t.slice(at + len);
        break;
      case 1:
        t = t.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)] + t.slice(at);
        break;
      case 2: {
        const from = Math.floor(random() * t.length);
        t = t.slice(0, at) + t.slice(from, from + len * 3) + t.slice(at);
        break;
      }
      default:
        t = t.slice(0, at) + String.fromCharCode(Math.floor(random() * 128)) + t.slice(at);
    }
  }
  return t;
}

describe("checker robustness", () => {
  it("checks 1,500 mutated projects without throwing, every diagnostic inside its file", async () => {
    const random = rng(20261121);
    for (let i = 0; i < 1500; i++) {
      // Lets the test worker answer vitest: minutes of synchronous work on a busy machine made
      // vitest's messages to it time out ("Timeout calling onTaskUpdate").
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
      const files = [0, 1, 2].map((k) => {
        const seed = seeds[Math.floor(random() * seeds.length)]!;
        const text = mutate(seed, random);
        const name = text.match(/runbook\s+([A-Za-z_]\w*)/)?.[1] ?? `f${k}`;
        return { file: `p${k}/${name}.runbook`, text };
      });
      let project;
      try {
        project = checkSources(files, loader);
      } catch (err) {
        throw new Error(`iteration ${i} threw ${(err as Error).stack}\n--- inputs:\n${files.map((f) => f.text).join("\n---\n")}`);
      }
      // Syntax diagnostics (RB1xxx) are the parser's to place; its own fuzz test checks them.
      for (const d of project.diagnostics.filter((x) => !x.code.startsWith("RB1"))) {
        const text = files.find((f) => f.file === d.span.file)?.text;
        expect(text, `${d.code} ${d.message} names a file of the project`).toBeDefined();
        const lines = text!.split(/\r\n|\r|\n/);
        const where = `${d.code} ${d.message} at ${d.span.start.line}:${d.span.start.column} in:\n${text}`;
        expect(d.span.start.line, where).toBeGreaterThanOrEqual(1);
        expect(d.span.start.line).toBeGreaterThanOrEqual(1);
        expect(d.span.start.line, where).toBeLessThanOrEqual(lines.length);
        expect(d.span.start.column).toBeGreaterThanOrEqual(1);
        expect(d.span.start.column, where).toBeLessThanOrEqual(lines[d.span.start.line - 1]!.length + 1);
        expect(d.message.length).toBeGreaterThan(0);
      }
    }
  });
});
