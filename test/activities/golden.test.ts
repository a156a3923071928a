// Golden diagnostics for calls of activities: each fixtures/golden/NAME.runbook is checked with
// `runbook check` and must print exactly NAME.expected. The errors name the .runbook position
// and the TypeScript declaration (fixtures/golden/ops.ts). UPDATE_GOLDEN=1 rewrites the
// expected files (then review every change by hand).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCheck } from "../../cli/check.js";

const root = path.join("test", "activities", "fixtures", "golden");
const update = process.env.UPDATE_GOLDEN === "1";
// A module with a TypeScript syntax error cannot live in the tree (the project's typecheck
// would fail on it), so the case writes it while it runs.
const broken = path.join(root, "broken.ts");

beforeAll(() => fs.writeFileSync(broken, "export function half(args: { a: string ) {\n  return 1;\n}\n"));
afterAll(() => fs.rmSync(broken, { force: true }));

const cases = fs
  .readdirSync(root)
  .filter((f) => f.endsWith(".runbook"))
  .map((f) => f.replace(/\.runbook$/, ""))
  .sort();

describe("activity call diagnostics", () => {
  it.each(cases)("%s", (name) => {
    const out = runCheck([path.join(root, `${name}.runbook`)], "text");
    expect(out.stdout).toBe("");
    const expectedFile = path.join(root, `${name}.expected`);
    if (update || !fs.existsSync(expectedFile)) {
      fs.writeFileSync(expectedFile, out.stderr);
      if (!update) throw new Error(`${expectedFile} did not exist; wrote it — review it by hand`);
    }
    expect(out.stderr).toBe(fs.readFileSync(expectedFile, "utf8"));
    expect(out.exitCode).toBe(name === "good" ? 0 : 1);
  });

  it("every unserializable result names its declaration in ops.ts", () => {
    for (const name of cases.filter((c) => c.startsWith("unserializable_"))) {
      const text = fs.readFileSync(path.join(root, `${name}.expected`), "utf8");
      expect(text, name).toMatch(/\[RB3003\]/);
      expect(text, name).toMatch(new RegExp(`${root.replace(/[/\\]/g, "[/\\\\]")}[/\\\\]ops\\.ts:\\d+:1: note: .* is declared here`));
    }
  });
});
