// Bad input of every kind gets diagnostics (or one clear one), never a throw or a stack trace:
// binary garbage, 10 MB files, 10,000 nested brackets, unterminated strings, NUL bytes, lone
// surrogates, odd line endings.
import { describe, expect, it } from "vitest";
import { parse } from "../../grammar/parse.js";
import { show } from "./helpers.js";

function parseSafely(text: string) {
  const r = parse("bad.runbook", text);
  for (const d of r.diagnostics) {
    expect(d.code).not.toMatch(/^RB109[89]$/); // the safety net for crashes is never needed
    expect(d.span.start.offset).toBeGreaterThanOrEqual(0);
    expect(d.span.end.offset).toBeLessThanOrEqual(text.length);
    expect(d.span.start.line).toBeGreaterThanOrEqual(1);
  }
  return r;
}

function randomText(n: number, seed: number, maxCode: number): string {
  let s = seed;
  const codes = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    codes[i] = (s >>> 8) % maxCode;
  }
  let out = "";
  for (let i = 0; i < n; i += 8192) out += String.fromCharCode(...codes.subarray(i, i + 8192));
  return out;
}

describe("binary garbage", () => {
  it("gives one clear diagnostic, quickly, even at 10 MB", () => {
    const r = parseSafely(randomText(10_000_000, 1, 256));
    expect(r.diagnostics.map((d) => d.code)).toEqual(["RB1031"]);
    expect(r.diagnostics[0].message).toMatch(/not a text file/);
    expect(r.ast.runbook).toBeUndefined();
  });

  it("undecodable bytes (U+FFFD) count as binary too", () => {
    expect(parseSafely("\ufffd".repeat(200) + "runbook t() {\n}\n").diagnostics.map((d) => d.code)).toEqual(["RB1031"]);
  });

  it("random printable text gets at most 101 diagnostics", () => {
    const r = parseSafely(randomText(200_000, 2, 127).replace(/[\x00-\x08\x0e-\x1f]/g, " "));
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.diagnostics.length).toBeLessThanOrEqual(101);
  });
});

// Deadlines of 10 minutes: a few seconds on an idle machine, these CPU-bound tests took minutes
// with two busy loops and other test runs on two cores. Each is one synchronous stretch, kept
// short: a worker busy for over a minute misses vitest's messages ("Timeout calling onTaskUpdate").
describe("10 MB files", () => {
  it("a valid 10 MB runbook parses without diagnostics", () => {
    const line = `  log "${"x".repeat(990)}"\n`;
    const text = `runbook big() {\n${line.repeat(Math.ceil(10_000_000 / line.length))}}\n`;
    expect(text.length).toBeGreaterThanOrEqual(10_000_000);
    const r = parseSafely(text);
    expect(r.diagnostics).toEqual([]);
    expect(r.ast.runbook!.body.statements.length).toBe(Math.ceil(10_000_000 / line.length));
  }, 600_000);

  it("a 1 MB runbook of dense code parses", () => {
    const line = '  let x = foo(a, b: "s ${c}") + 2 * 3 ?? [1, 2][0]\n';
    const r = parseSafely(`runbook big() {\n${line.repeat(Math.ceil(1_000_000 / line.length))}}\n`);
    expect(r.diagnostics).toEqual([]);
  }, 600_000);

  // One test each: between tests the worker answers vitest (see above).
  it("10 MB of one token", () => {
    expect(parseSafely("x".repeat(10_000_000)).diagnostics.map((d) => d.code)).toEqual(["RB1029"]);
  }, 600_000);

  it("10 MB of blank lines", () => {
    expect(parseSafely("\n".repeat(10_000_000)).diagnostics.map((d) => d.code)).toEqual(["RB1019"]);
  }, 600_000);

  it("10 MB of an unterminated string", () => {
    expect(parseSafely(`runbook t() {\n  log """${"x".repeat(10_000_000)}`).diagnostics.map((d) => d.code)).toEqual(["RB1002", "RB1004"]);
  }, 600_000);
});

describe("deep nesting", () => {
  const wrap = (e: string) => `runbook t() {\n  let x = ${e}\n}\n`;

  it.each([
    ["parentheses", "(".repeat(10_000) + "1" + ")".repeat(10_000)],
    ["brackets", "[".repeat(10_000) + "]".repeat(10_000)],
    ["maps", "{a: ".repeat(10_000) + "1" + "}".repeat(10_000)],
    ["unclosed brackets", "[".repeat(10_000)],
    ["interpolations", '"${'.repeat(10_000) + "x" + '}"'.repeat(10_000)],
    ["unclosed interpolations", '"${'.repeat(10_000)],
    ["awaits", "await ".repeat(10_000) + "j"],
  ])("10,000 nested %s: one diagnostic, nesting deeper than 200 levels", (_what, e) => {
    const r = parseSafely(wrap(e));
    expect(r.diagnostics.map(show)).toEqual([expect.stringMatching(/^2:\d+ RB1007 nesting deeper than 200 levels$/)]);
  });

  it("10,000 nested blocks", () => {
    const r = parseSafely(`runbook t() {\n${"if a {\n".repeat(10_000)}${"}\n".repeat(10_000)}}\n`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["RB1007"]);
  });

  it("nesting up to the limit parses", () => {
    const r = parseSafely(wrap("(".repeat(198) + "1" + ")".repeat(198)));
    expect(r.diagnostics).toEqual([]);
    const blocks = parseSafely(`runbook t() {\n${"if a {\n".repeat(190)}${"}\n".repeat(190)}}\n`);
    expect(blocks.diagnostics).toEqual([]);
  });

  it.each([
    ["operators", "1" + " + 1".repeat(50_000)],
    ["nots", "not ".repeat(50_000) + "a"],
    ["minuses", "- ".repeat(50_000) + "a"],
    ["members", "a" + ".b".repeat(50_000)],
    ["calls and indexes", "f()" + "[0]".repeat(50_000)],
  ])("50,000 chained %s: one diagnostic, no deep tree handed on", (_what, e) => {
    const r = parseSafely(wrap(e));
    expect(r.diagnostics.map((d) => d.code)).toEqual(["RB1027"]);
    expect(r.ast.runbook).toBeUndefined();
  });
});

describe("unterminated strings and odd characters", () => {
  it("an unterminated string reports once and the rest of the file parses", () => {
    const r = parseSafely('runbook t() {\n  log "abc\n  log "def"\n}\n');
    expect(r.diagnostics.map(show)).toEqual(['2:7 RB1002 unterminated string: add the closing `"`']);
    expect(r.ast.runbook!.body.statements.map((s) => s.kind)).toEqual(["Stream", "Stream"]);
  });

  it("a string open at the end of the file", () => {
    expect(parseSafely('runbook t() {\n  log "abc').diagnostics.map((d) => d.code)).toEqual(["RB1002", "RB1004"]);
    expect(parseSafely('"').diagnostics.map((d) => d.code)).toEqual(["RB1002", "RB1029"]);
    expect(parseSafely('runbook t() {\n  log "${').diagnostics.map((d) => d.code)).toEqual(["RB1025", "RB1004"]);
  });

  it("NUL bytes outside strings are unexpected characters; inside strings they are text", () => {
    expect(parseSafely("runbook t() {\n  log 1\u0000\n}\n").diagnostics.map(show)).toEqual(["2:8 RB1001 unexpected character `U+0000`"]);
    const r = parseSafely('runbook t() {\n  log "a\u0000b"\n}\n');
    expect(r.diagnostics).toEqual([]);
  });

  it("lone surrogates outside strings are unexpected characters; inside strings they are text", () => {
    expect(parseSafely("runbook t() {\n  \ud800\n}\n").diagnostics.map(show)).toEqual(["2:3 RB1001 unexpected character `U+D800`"]);
    expect(parseSafely('runbook t() {\n  log "\udc00"\n}\n').diagnostics).toEqual([]);
  });

  it("a byte-order mark and non-ASCII text in strings and comments are fine", () => {
    expect(parseSafely('\ufeffrunbook t() { # ünïcödé ✓\n  log "日本語 ✓"\n}\n').diagnostics).toEqual([]);
  });

  it("lone CR line endings work like LF", () => {
    const r = parseSafely("runbook t() {\r  let x = 1\r  log x\r}\r");
    expect(r.diagnostics).toEqual([]);
    expect(r.ast.runbook!.body.statements[1].span.start.line).toBe(3);
  });

  it("non-string input is read as its text, not thrown on", () => {
    expect(() => parse("x.runbook", undefined as unknown as string)).not.toThrow();
  });
});
