// Golden diagnostics: every case under cases/ is a bad runbook (NAME.runbook) or a project of
// them (a folder NAME/), and NAME.expected holds exactly what `runbook check --format text`
// prints for it. UPDATE_GOLDEN=1 rewrites the expected files (then review every change by hand).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../cli/check.js";
import { ALL_MESSAGES } from "../../compiler/messages.js";

const root = path.relative(process.cwd(), path.join(import.meta.dirname, "cases")) || ".";
const update = process.env.UPDATE_GOLDEN === "1";

const cases = fs
  .readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory() || e.name.endsWith(".runbook"))
  .map((e) => ({ name: e.name.replace(/\.runbook$/, ""), input: path.join(root, e.name) }))
  .sort((a, b) => a.name.localeCompare(b.name));

function render(input: string): string {
  const out = runCheck([input], "text");
  expect(out.stdout).toBe("");
  return out.stderr;
}

describe("golden diagnostics", () => {
  it.each(cases)("$name", ({ name, input }) => {
    const expectedFile = path.join(root, `${name}.expected`);
    const actual = render(input);
    if (update || !fs.existsSync(expectedFile)) {
      fs.writeFileSync(expectedFile, actual);
      if (!update) throw new Error(`${expectedFile} did not exist; wrote it — review it by hand`);
    }
    expect(actual).toBe(fs.readFileSync(expectedFile, "utf8"));
  });

  it("covers every registered checker and activity code", () => {
    const expected = fs
      .readdirSync(root)
      .filter((f) => f.endsWith(".expected"))
      .map((f) => fs.readFileSync(path.join(root, f), "utf8"))
      .join("\n");
    const missing = ALL_MESSAGES.map((m) => m.code)
      .filter((code) => /^RB[23]/.test(code))
      .filter((code) => !expected.includes(`[${code}]`));
    expect(missing).toEqual([]);
  });

  it("every expected file belongs to a case", () => {
    const names = new Set(cases.map((c) => c.name));
    const orphans = fs
      .readdirSync(root)
      .filter((f) => f.endsWith(".expected"))
      .filter((f) => !names.has(f.replace(/\.expected$/, "")));
    expect(orphans).toEqual([]);
  });
});
