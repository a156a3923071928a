import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import { MAX_FILE_BYTES } from "../../compiler/program.js";
import { escapeData, escapeProperty, formatDiagnostics, sourceWithCaret } from "../../compiler/report.js";
import type { Diagnostic } from "../../grammar/diagnostic.js";
import type { Span } from "../../grammar/ast.js";

const at = (line: number, column: number, endLine: number, endColumn: number, file = "a.runbook"): Span => ({
  file,
  start: { line, column, offset: 0 },
  end: { line: endLine, column: endColumn, offset: 0 },
});

describe("caret line", () => {
  it("repeats tabs so the caret stays aligned", () => {
    expect(sourceWithCaret("\t\tlet x = y", at(1, 11, 1, 12))).toEqual({ shown: "\t\tlet x = y", caret: "\t\t        ^" });
  });
  it("underlines the span with ~ and stops at the end of the line for a multi-line span", () => {
    expect(sourceWithCaret("  foo(a,", at(1, 3, 3, 2)).caret).toBe("  ^~~~~~");
  });
  it("counts a character outside the BMP once", () => {
    expect(sourceWithCaret('log "😀" + x', at(1, 12, 1, 13)).caret).toBe("          ^");
  });
  it("shows a window of a very long line", () => {
    const line = `${"a".repeat(1000)} bad ${"b".repeat(1000)}`;
    const { shown, caret } = sourceWithCaret(line, at(1, 1002, 1, 1005));
    expect(shown.length).toBeLessThan(200);
    expect(shown[caret.indexOf("^")]).toBe("b");
    expect(shown.slice(caret.indexOf("^"), caret.indexOf("^") + 3)).toBe("bad");
  });
  it("makes control characters visible", () => {
    expect(sourceWithCaret("a\u001b[31mb", at(1, 1, 1, 2)).shown).toBe("a\uFFFD[31mb");
  });
});

describe("formats", () => {
  const d: Diagnostic[] = [
    { severity: "warning", code: "RB2024", message: "`x` is never used", span: at(3, 7, 3, 8, "b.runbook") },
    {
      severity: "error",
      code: "RB2001",
      message: "`hots` is not defined",
      span: at(2, 12, 2, 16),
      hint: "did you mean `hosts`?",
      related: [{ message: "declared here", span: at(1, 5, 1, 10) }],
    },
  ];
  const sources = new Map([
    ["a.runbook", "runbook a(hosts: list<string>) {\n  for h in hots {}\r\n}"],
    ["b.runbook", "runbook b() {\n\n  let x = 1\n}"],
  ]);

  it("text: sorted, with source, caret, hint and notes", () => {
    expect(formatDiagnostics(d, sources, "text")).toBe(
      [
        "a.runbook:2:12: error: `hots` is not defined [RB2001]",
        "  for h in hots {}",
        "           ^~~~",
        "  hint: did you mean `hosts`?",
        "  a.runbook:1:5: note: declared here",
        "b.runbook:3:7: warning: `x` is never used [RB2024]",
        "  let x = 1",
        "      ^",
        "",
      ].join("\n"),
    );
  });

  it("json: the documented fields only", () => {
    expect(JSON.parse(formatDiagnostics(d, sources, "json"))[0]).toEqual({
      file: "a.runbook",
      line: 2,
      column: 12,
      endLine: 2,
      endColumn: 16,
      severity: "error",
      code: "RB2001",
      message: "`hots` is not defined",
    });
  });

  it("github: escapes data and properties", () => {
    expect(escapeData("50% done\r\nnext")).toBe("50%25 done%0D%0Anext");
    expect(escapeProperty("dir,x/a:b.runbook")).toBe("dir%2Cx/a%3Ab.runbook");
    const out = formatDiagnostics([{ ...d[0]!, span: at(1, 1, 1, 2, "we,ird:name.runbook") }], sources, "github");
    expect(out).toBe("::warning file=we%2Cird%3Aname.runbook,line=1,col=1,endLine=1,endColumn=2,title=RB2024::`x` is never used\n");
  });
});

describe("compile: input problems", () => {
  it("refuses a huge file with a diagnostic and a missing path as an input error", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-load-"));
    try {
      const big = path.join(dir, "big.runbook");
      fs.writeFileSync(big, Buffer.alloc(MAX_FILE_BYTES + 1, 0x20));
      const p = compile({ paths: [big] }, { emit: false });
      expect(p.diagnostics.map((x) => x.code)).toEqual(["RB9003"]);
      expect(compile({ paths: [path.join(dir, "missing.runbook")] }).inputError).toBe(`no such file or folder: ${path.join(dir, "missing.runbook")}`);
      fs.mkdirSync(path.join(dir, "links"));
      fs.symlinkSync(path.join(dir, "nowhere.runbook"), path.join(dir, "links/dangling.runbook"));
      const dangling = compile({ paths: [path.join(dir, "links")] });
      expect(dangling.diagnostics.map((x) => `${x.code} ${x.message}`)).toEqual(["RB9001 cannot read this file: ENOENT"]);
      fs.writeFileSync(path.join(dir, "notes.txt"), "hello");
      expect(compile({ paths: [path.join(dir, "notes.txt")] }).inputError).toMatch(/is not a \.runbook file/);
      fs.mkdirSync(path.join(dir, "empty"));
      expect(compile({ paths: [path.join(dir, "empty")] }).inputError).toMatch(/no \.runbook files/);
      expect(compile({}).inputError).toBe("no runbook files or folders given");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
