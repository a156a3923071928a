// docs/diagnostics.md documents every code the checker and the parser can report.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, it } from "vitest";
import { ALL_MESSAGES } from "../../compiler/messages.js";

const repo = path.resolve(import.meta.dirname, "../..");

it("docs/diagnostics.md has a row for every code", () => {
  const doc = fs.readFileSync(path.join(repo, "docs/diagnostics.md"), "utf8");
  const syntax = fs.readFileSync(path.join(repo, "grammar/messages.ts"), "utf8").match(/RB1\d{3}/g) ?? [];
  const codes = new Set([...ALL_MESSAGES.map((m) => m.code), ...syntax]);
  const missing = [...codes].filter((code) => !new RegExp(`^\\| ${code} \\|`, "m").test(doc));
  expect(missing).toEqual([]);
});
