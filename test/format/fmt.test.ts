// `runbook fmt`: one canonical layout, idempotent, comments kept, tokens unchanged.
//
// Meaning is proven unchanged on the whole corpus and runbooks/: their files are already in the
// canonical layout, so each is scrambled (random indentation, random runs of spaces wherever the
// layout's rules fix the spacing; no line added or removed, so error lines stay put), formatted
// with the real CLI, and must come back byte for byte as the file the corpus test runs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { format, sameTokens } from "../../format/format.js";
import { lex } from "../../grammar/lexer.js";
import * as T from "../../grammar/tokens.js";

const repo = path.resolve(import.meta.dirname, "../..");
const SOURCES = { runbooks: path.join(repo, "runbooks"), corpus: path.join(repo, "test/corpus/runbooks") };
let dir: string;

function runbook(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, "bin/runbook.js"), ...args], { cwd: dir, encoding: "utf8", timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function formatted(text: string): string {
  const r = format("t.runbook", text);
  if (r.kind === "invalid") throw new Error(`syntax errors: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  if (r.kind === "refused") throw new Error(r.reason);
  return r.text;
}

/** A small seeded generator, so a failure reproduces. */
function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

/** The same tokens and line breaks with the whitespace the formatter decides scrambled. */
function scramble(text: string, random: () => number): string {
  const spaces = (min: number, max: number) => " \t".charAt(random() < 0.2 ? 1 : 0).repeat(min + Math.floor(random() * (max - min + 1)));
  const tokens = lex(text).tokens;
  const tight = new Set([T.Comma, T.RParen, T.RBracket, T.Colon]);
  let out = "";
  let pos = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const gap = text.slice(pos, t.startOffset);
    const prev = tokens[i - 1];
    const lineStart = prev === undefined || prev.tokenType === T.Newline;
    const hash = gap.indexOf("#");
    const ws = hash < 0 ? gap : gap.slice(0, hash);
    const rest = hash < 0 ? "" : gap.slice(hash);
    let spaced: string;
    if (lineStart) spaced = spaces(0, 8);
    else if (ws.length > 0) spaced = spaces(1, 3);
    else if (tight.has(t.tokenType) || prev.tokenType === T.LParen || prev.tokenType === T.LBracket) spaced = spaces(0, 2);
    else spaced = "";
    out += spaced + (rest === "" ? "" : rest + spaces(0, 2));
    // comment-only lines inside a line-break token get random indentation too
    out += t.tokenType === T.Newline ? t.image.replace(/(\r?\n)[ \t]*#/g, (_m, nl: string) => `${nl}${spaces(0, 6)}#`) : t.image;
    pos = t.startOffset + t.image.length;
  }
  return out + text.slice(pos);
}

function filesUnder(root: string): string[] {
  return fs.readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".runbook")).sort();
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-fmt-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("format", () => {
  const messy = [
    "",
    "# header comment",
    "runbook   messy( a : number=1 ,b: string = \"x\" )   {   # trailing  ",
    "\tlet x = [ 1,2 ,3 ]",
    "",
    "",
    "\tlet m = {k:1, \"j\" : a*2}",
    "  if a==1{",
    "output \"a ${ a+1 } b\"",
    "  }else {",
    "      # inside",
    "      log m.k",
    "  }",
    "  let s = \"\"\"",
    "    keep   this  ",
    "  \"\"\"",
    "  let y = max(",
    "            1,",
    "       2)",
    "",
    "}",
    "# end",
  ].join("\n");

  it("lays a file out canonically, keeping every comment and the inside of strings", () => {
    expect(formatted(messy)).toBe(
      [
        "# header comment",
        "runbook messy(a: number = 1, b: string = \"x\") { # trailing",
        "  let x = [1, 2, 3]",
        "",
        "  let m = {k: 1, \"j\": a * 2}",
        "  if a == 1 {",
        "    output \"a ${ a+1 } b\"",
        "  } else {",
        "    # inside",
        "    log m.k",
        "  }",
        "  let s = \"\"\"",
        "    keep   this  ",
        "  \"\"\"",
        "  let y = max(",
        "    1,",
        "    2)",
        "}",
        "# end",
        "",
      ].join("\n"),
    );
    expect(sameTokens(messy, formatted(messy))).toBe(true);
  });

  it("is idempotent", () => {
    expect(formatted(formatted(messy))).toBe(formatted(messy));
  });

  it("indents once for brackets opened on one line", () => {
    expect(formatted('runbook r() {\nlet x = f([\n1, 2\n])\n}\n')).toBe("runbook r() {\n  let x = f([\n    1, 2\n  ])\n}\n");
  });

  it("writes a record type inside a generic type tight", () => {
    expect(formatted("runbook r(xs: list< {a: number}> = []) {\n}\n")).toBe("runbook r(xs: list<{a: number}> = []) {\n}\n");
  });

  it("leaves a file with syntax errors untouched and reports them", () => {
    const r = format("bad.runbook", "runbook r() {\n  let = 1\n}\n");
    expect(r.kind).toBe("invalid");
  });
});

describe("runbook fmt", () => {
  it("formats scrambled copies of runbooks/ and the corpus back to the originals; a second run changes nothing", () => {
    const random = rng(12);
    const originals = new Map<string, string>();
    for (const [name, src] of Object.entries(SOURCES)) {
      for (const f of filesUnder(src)) {
        const text = fs.readFileSync(path.join(src, f), "utf8");
        expect(formatted(text), `${name}/${f} is in the canonical layout`).toBe(text);
        const copy = path.join(dir, "copies", name, f);
        fs.mkdirSync(path.dirname(copy), { recursive: true });
        const scrambled = scramble(text, random);
        expect(sameTokens(text, scrambled)).toBe(true);
        fs.writeFileSync(copy, scrambled);
        originals.set(copy, text);
      }
    }
    expect(originals.size).toBeGreaterThan(50);
    const changed = [...originals].filter(([copy, text]) => fs.readFileSync(copy, "utf8") !== text).length;
    expect(changed).toBeGreaterThan(originals.size * 0.9);

    const check = runbook("fmt", "--check", "copies");
    expect(check.code).toBe(1);
    expect(check.stdout.split("\n").filter(Boolean).length).toBe(changed);

    const first = runbook("fmt", "copies");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    for (const [copy, text] of originals) expect(fs.readFileSync(copy, "utf8"), copy).toBe(text);

    const second = runbook("fmt", "--check", "copies");
    expect(second).toEqual({ code: 0, stdout: "", stderr: "" });
  }, 600_000);

  it("leaves a file with syntax errors as it was, prints its diagnostics with a caret and exits 1", () => {
    const bad = "runbook r() {\n  let = 1\n}\n";
    fs.writeFileSync(path.join(dir, "bad.runbook"), bad);
    const r = runbook("fmt", "bad.runbook");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bad\.runbook:2:7: error: .*\n.*let = 1\n\s+\^/);
    expect(fs.readFileSync(path.join(dir, "bad.runbook"), "utf8")).toBe(bad);
  }, 300_000);
});
