// The VS Code extension's TextMate grammar, tokenized as VS Code does (vscode-textmate with the
// oniguruma regex engine), on editors/vscode/sample.runbook: each listed piece of text must get
// the listed scope.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as oniguruma from "vscode-oniguruma";
import { INITIAL, parseRawGrammar, Registry, type IGrammar } from "vscode-textmate";
import { beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "../..");
const ext = path.join(repo, "editors/vscode");
let grammar: IGrammar;

interface Token {
  text: string;
  scopes: string[];
}
let lines: Token[][];

beforeAll(async () => {
  const wasm = fs.readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve("vscode-oniguruma")), "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => {
      if (scope !== "source.runbook") return null;
      const file = path.join(ext, "syntaxes/runbook.tmLanguage.json");
      return parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  grammar = (await registry.loadGrammar("source.runbook"))!;
  let state = INITIAL;
  lines = fs
    .readFileSync(path.join(ext, "sample.runbook"), "utf8")
    .split("\n")
    .map((line) => {
      const r = grammar.tokenizeLine(line, state);
      state = r.ruleStack;
      return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
    });
});

/** The innermost scope of the `nth` token with this text on a 1-based line. */
function scopeOf(line: number, text: string, nth = 0): string {
  const found = lines[line - 1].filter((t) => t.text === text);
  expect(found.length, `line ${line} has a token ${JSON.stringify(text)}: ${JSON.stringify(lines[line - 1].map((t) => t.text))}`).toBeGreaterThan(nth);
  return found[nth].scopes[found[nth].scopes.length - 1];
}
const scopesOf = (line: number, text: string) => lines[line - 1].find((t) => t.text === text)?.scopes ?? [];

describe("the TextMate grammar", () => {
  it("the package declares the language and the grammar", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ext, "package.json"), "utf8"));
    expect(pkg.contributes.languages[0]).toMatchObject({ id: "runbook", extensions: [".runbook"] });
    expect(pkg.contributes.grammars[0]).toMatchObject({ language: "runbook", scopeName: "source.runbook" });
  });

  it("scopes comments, keywords and declarations", () => {
    expect(scopeOf(1, "# Restart the web tier, one host at a time.")).toBe("comment.line.number-sign.runbook");
    expect(scopeOf(2, "use")).toBe("keyword.other.runbook");
    expect(scopeOf(4, "restart")).toBe("entity.name.function.runbook");
    expect(scopeOf(6, "for")).toBe("keyword.control.runbook");
    expect(scopeOf(6, "in")).toBe("keyword.control.runbook");
    expect(scopeOf(8, "checkpoint")).toBe("keyword.control.statement.runbook");
    expect(scopeOf(16, "null")).toBe("constant.language.runbook");
    expect(scopeOf(16, "and")).toBe("keyword.operator.logical.runbook");
    expect(scopeOf(17, "fail")).toBe("keyword.control.statement.runbook");
  });

  it("treats statement words used as names as names", () => {
    // `timeout` and `start` as parameters, `output` as a local
    expect(scopeOf(4, "timeout")).not.toMatch(/keyword/);
    expect(scopeOf(4, "start")).not.toMatch(/keyword/);
    expect(scopeOf(5, "output")).not.toMatch(/keyword/);
    expect(scopesOf(12, "output").join(" ")).not.toMatch(/keyword/);
    // ... and as statement words where they are
    expect(scopeOf(14, "start")).toBe("keyword.control.async.runbook");
    expect(scopeOf(15, "wait")).toBe("keyword.control.async.runbook");
    expect(scopeOf(15, "timeout")).toBe("keyword.control.timeout.runbook");
    expect(scopeOf(19, "await")).toBe("keyword.control.async.runbook");
  });

  it("scopes `parallel` as a keyword only right before `for`", () => {
    expect(scopeOf(20, "parallel")).toBe("keyword.control.parallel.runbook");
    expect(scopeOf(20, "for")).toBe("keyword.control.runbook");
    expect(scopeOf(20, "in")).toBe("keyword.control.runbook");
    // `parallel` as a local (grammar/contextual.ts: a name anywhere but before `for`)
    expect(scopeOf(23, "parallel")).not.toMatch(/keyword/);
  });

  it("scopes strings with interpolation, escapes and triple quotes", () => {
    expect(scopeOf(7, "restarting ")).toBe("string.quoted.double.runbook");
    expect(scopeOf(7, "${")).toBe("punctuation.section.interpolation.begin.runbook");
    expect(scopesOf(7, "h")).toContain("meta.interpolation.runbook");
    expect(scopeOf(7, "len")).toBe("entity.name.function.call.runbook");
    expect(scopesOf(7, "len")).toContain("string.quoted.double.runbook");
    expect(scopeOf(7, "1")).toBe("constant.numeric.runbook");
    expect(scopeOf(11, '"""')).toBe("string.quoted.triple.runbook");
    expect(scopesOf(12, "    done: ")).toContain("string.quoted.triple.runbook");
    expect(scopesOf(12, "state")).toContain("meta.interpolation.runbook");
    expect(scopeOf(17, '\\"')).toBe("constant.character.escape.runbook");
    expect(scopesOf(17, "start")).toContain("meta.interpolation.runbook");
  });

  it("ends every file of runbooks/ and the corpus with no string, interpolation or brace left open", () => {
    const dirs = [path.join(repo, "runbooks"), path.join(repo, "test/corpus/runbooks")];
    const files = dirs.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith(".runbook")).map((f) => path.join(d, f)));
    expect(files.length).toBeGreaterThan(50);
    const top = grammar.tokenizeLine("", INITIAL).ruleStack; // the state outside any string or brace
    expect(grammar.tokenizeLine('runbook r() { let s = """', top).ruleStack.equals(top)).toBe(false);
    for (const file of files) {
      let state = INITIAL;
      for (const line of fs.readFileSync(file, "utf8").split("\n")) state = grammar.tokenizeLine(line, state).ruleStack;
      expect(state.equals(top), file).toBe(true);
    }
  });

  it("scopes durations and numbers", () => {
    expect(scopeOf(4, "5m")).toBe("constant.numeric.duration.runbook");
    expect(scopeOf(9, "1h30m")).toBe("constant.numeric.duration.runbook");
    expect(scopeOf(14, "2.5e3")).toBe("constant.numeric.runbook");
    expect(scopeOf(15, "10m")).toBe("constant.numeric.duration.runbook");
  });
});
