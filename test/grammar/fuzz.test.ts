// Fuzzing the front end: ≥ 10,000 random and mutated inputs per run. For each one, `parse` and
// the checker (`checkSources`) must return normally, and every diagnostic and every AST span
// must point inside the file. The PRNG is seeded (FUZZ_SEED overrides the default), and a
// failure names the seed and the input's index, so `FUZZ_SEED=<seed>` replays the same inputs.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Span } from "../../grammar/ast.js";
import type { Diagnostic } from "../../grammar/diagnostic.js";
import { lex } from "../../grammar/lexer.js";
import { parse } from "../../grammar/parse.js";
import { generateRunbook } from "../../bench/frontend.js";
import { checkSources } from "../../compiler/program.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const INPUTS = Number(process.env.FUZZ_INPUTS ?? 10_000);

/** mulberry32: small, fast, good enough to shake a parser. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLES = [
  `use "./activities.ts" as infra

runbook build_vm(name: string, size: string = "small", retries: number = 3) -> string {
  let vm = infra.createVm(name: name, size: size)
  checkpoint "vm-created"
  retry (attempts: retries, delay: 30s, backoff: 2) {
    infra.configure(id: vm.id)
  }
  log "configured \${vm.id}"
  return vm.id
}
`,
  `runbook rolling(hosts: list<string>, batch: number = 2) -> map<any> {
  let done: map<bool> = {}
  for i, h in hosts {
    if i % batch == 0 and i > 0 {
      let ok = wait "approve" timeout 1h30m
      if ok == null { suspend "no approval" } else if not ok.go { fail "refused: \${ok?.why ?? "?"}" }
    }
    try {
      let r = exec(["systemctl", "restart", h], timeout: 2m)
      done[h] = r.code == 0
    } catch err {
      error """restart of \${h} failed
at \${err.line}:\${err.column}"""
      done[h] = false
    } finally {
      checkpoint "after-\${i}"
    }
  }
  let j = start report(items: keys(done))
  let res = await j
  output { done: done, "report": res, total: len(hosts) - 1 * 2 / 4 }
  while false { break }
  sleep 250ms
  return done
}
`,
  'runbook t() {\r\n  let x = [1, 2,\r\n    3]\r\n  x[0] += -1e3; x[1] -= 2\r\n  warn "crlf ${x}"\r\n}\r\n',
];

function corpus(): string[] {
  const dir = path.join(import.meta.dirname, "../../runbooks");
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".runbook")) : [];
  return [...SAMPLES, ...files.map((f) => fs.readFileSync(path.join(dir, f), "utf8")), generateRunbook(80, 7)];
}

const VOCABULARY = [
  "use", "runbook", "let", "if", "else", "while", "for", "in", "break", "continue", "return", "checkpoint",
  "sleep", "suspend", "wait", "timeout", "output", "log", "warn", "error", "fail", "try", "catch", "finally",
  "retry", "start", "await", "true", "false", "null", "and", "or", "not", "as", "x", "list", "map", "string",
  "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "?.", "?", "??", "..", "->", "=", "+=", "-=", "==", "!=",
  "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "&&", "||", "!", "@", "#", "\n", "\r\n", "\r", "\t",
  '"', '"""', "${", "}", '"a ${x} b"', '"unterminated', '"""multi\nline"""', "42", "3.5", "-1e3", "1e999",
  "1h30m", "250ms", "\\", "\\n", "$", "\u0000", "\ud800", "\udc00", "é", "\uffff", "runbook t() {", "}\n",
];

interface Case {
  kind: string;
  text: string;
}

function makeCases(seed: number, count: number): Case[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const bases = corpus();
  const tokenized = bases.map((text) => ({ text, tokens: lex(text).tokens.map((t) => [t.startOffset, t.startOffset + t.image.length] as const) }));
  const randomChars = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) {
      const r = rnd();
      s += r < 0.6 ? String.fromCharCode(32 + int(95)) : r < 0.8 ? pick(["\n", "\r", "\t", "\u0000", '"', "{", "}", "$"]) : String.fromCharCode(int(0x10000));
    }
    return s;
  };
  const mutate = (base: { text: string; tokens: (readonly [number, number])[] }): string => {
    let text = base.text;
    const toks = base.tokens;
    const rounds = 1 + int(4);
    for (let r = 0; r < rounds; r++) {
      const [s, e] = toks.length > 0 ? pick(toks) : [0, 0];
      const [s2, e2] = toks.length > 0 ? pick(toks) : [0, 0];
      // Offsets of `toks` refer to the unmutated base; clamp them into the current text.
      const cl = (n: number) => Math.min(n, text.length);
      switch (int(9)) {
        case 0: // delete a token
          text = text.slice(0, cl(s)) + text.slice(cl(e));
          break;
        case 1: // duplicate a token
          text = text.slice(0, cl(e)) + text.slice(cl(s), cl(e)) + text.slice(cl(e));
          break;
        case 2: { // swap two tokens
          const [a, b] = s < s2 ? [[s, e], [s2, e2]] : [[s2, e2], [s, e]];
          if (a[1] <= b[0]) text = text.slice(0, cl(a[0])) + text.slice(cl(b[0]), cl(b[1])) + text.slice(cl(a[1]), cl(b[0])) + text.slice(cl(a[0]), cl(a[1])) + text.slice(cl(b[1]));
          break;
        }
        case 3: // insert a vocabulary token
          text = text.slice(0, cl(s)) + pick(VOCABULARY) + " " + text.slice(cl(s));
          break;
        case 4: { // overwrite a few characters
          const at = int(text.length + 1);
          const n = 1 + int(4);
          text = text.slice(0, at) + randomChars(n) + text.slice(at + n);
          break;
        }
        case 5: // truncate
          text = text.slice(0, int(text.length + 1));
          break;
        case 6: { // delete a line
          const lines = text.split("\n");
          lines.splice(int(lines.length), 1);
          text = lines.join("\n");
          break;
        }
        case 7: { // duplicate a line
          const lines = text.split("\n");
          const i = int(lines.length);
          lines.splice(i, 0, lines[i]);
          text = lines.join("\n");
          break;
        }
        default: // CRLF or lone CR line endings
          text = rnd() < 0.5 ? text.replace(/\n/g, "\r\n") : text.replace(/\n/g, "\r");
      }
    }
    return text;
  };
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.6) cases.push({ kind: "mutated", text: mutate(pick(tokenized)) });
    else if (r < 0.9) {
      const n = 1 + int(120);
      const parts: string[] = rnd() < 0.5 ? ["runbook t() {\n"] : [];
      for (let k = 0; k < n; k++) parts.push(pick(VOCABULARY), pick([" ", " ", "", "\n"]));
      cases.push({ kind: "soup", text: parts.join("") });
    } else cases.push({ kind: "bytes", text: randomChars(int(400)) });
  }
  return cases;
}

/** Problems with `d`'s position in `text`, or undefined when it lies inside the file. */
function badSpan(span: Span, text: string, file: string, lineCount: number): string | undefined {
  const { start, end } = span;
  if (span.file !== file) return `file ${span.file}`;
  if (!(start.offset >= 0 && start.offset <= end.offset && end.offset <= text.length)) return `offsets ${start.offset}..${end.offset} of ${text.length}`;
  for (const p of [start, end]) {
    if (!(p.line >= 1 && p.line <= lineCount && p.column >= 1)) return `position ${p.line}:${p.column} of ${lineCount} lines`;
  }
  return undefined;
}

function lineCountOf(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      n++;
    }
  }
  return n;
}

/** Every span in the AST (spans and keySpans), without recursion limits of its own. */
function* spans(root: unknown): Generator<Span> {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null) continue;
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === "span" || k === "keySpan") yield v as Span;
      else stack.push(v);
    }
  }
}

// The checker reads `use` modules from disk; the fuzz test keeps to the text it made.
const noModules = (_file: string, usePath: string, alias: string) => ({
  alias,
  path: usePath,
  functions: new Map(),
  error: "modules are not loaded in the fuzz test",
});

describe("fuzzing the front end", () => {
  it(`parses and checks ${INPUTS} random and mutated inputs without throwing, every span inside the file (seed ${SEED})`, async () => {
    const cases = makeCases(SEED, INPUTS);
    const failures: string[] = [];
    const fail = (i: number, c: Case, why: string) => {
      if (failures.length < 5) failures.push(`input #${i} (${c.kind}, FUZZ_SEED=${SEED}): ${why}\n  text: ${JSON.stringify(c.text.slice(0, 300))}`);
    };
    let diagnostics = 0;
    for (let i = 0; i < cases.length; i++) {
      // Let the test worker answer vitest now and then: one synchronous stretch of minutes (on a
      // busy machine) made vitest's messages to it time out ("Timeout calling onTaskUpdate").
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
      const c = cases[i];
      const file = `fuzz${i % 7}.runbook`;
      const lines = lineCountOf(c.text);
      let parsed: ReturnType<typeof parse>;
      try {
        parsed = parse(file, c.text);
      } catch (e) {
        fail(i, c, `parse threw ${(e as Error)?.stack ?? e}`);
        continue;
      }
      for (const d of parsed.diagnostics) {
        // parse() turns a crash into a diagnostic so that users never see a stack trace; here
        // that safety net must never be needed.
        if (d.code === "RB1098" || d.code === "RB1099") fail(i, c, `parse hit its safety net: ${d.code} ${d.message}`);
        const bad = badSpan(d.span, c.text, file, lines);
        if (bad) fail(i, c, `parse diagnostic ${d.code} "${d.message}" outside the file: ${bad}`);
      }
      diagnostics += parsed.diagnostics.length;
      if (i % 4 === 0) {
        for (const s of spans(parsed.ast)) {
          const bad = badSpan(s, c.text, file, lines);
          if (bad) {
            fail(i, c, `AST span outside the file: ${bad}`);
            break;
          }
        }
      }
      let checked: Diagnostic[];
      try {
        checked = checkSources([{ file, text: c.text }], noModules).diagnostics;
      } catch (e) {
        fail(i, c, `checkSources threw ${(e as Error)?.stack ?? e}`);
        continue;
      }
      for (const d of checked) {
        if (d.span.file !== file) continue;
        const bad = badSpan(d.span, c.text, file, lines);
        if (bad) fail(i, c, `checker diagnostic ${d.code} "${d.message}" outside the file: ${bad}`);
      }
    }
    expect(failures).toEqual([]);
    // The inputs are broken often enough to exercise recovery, not only the happy path.
    expect(diagnostics).toBeGreaterThan(INPUTS);
  }, 600_000); // a deadline, not an expectation: 17 s idle, 169 s under a load average of 24

  it("the same seed makes the same inputs", () => {
    expect(makeCases(7, 50)).toEqual(makeCases(7, 50));
  });
});
