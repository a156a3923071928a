// The editor features on every runbook of the repository (valid ones, the corpus, and the
// diagnostics cases, which are broken on purpose) at every token boundary, and on files cut short at
// many points, as they are while being typed: no feature may throw, and what they answer must
// point into real files at real positions.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { lex } from "../../grammar/lexer.js";
import { completion } from "../../lsp/completion.js";
import { definition } from "../../lsp/definition.js";
import { hover } from "../../lsp/hover.js";
import { prepareRename, rename } from "../../lsp/rename.js";
import { documentSymbols } from "../../lsp/symbols.js";
import { uriToPath } from "../../lsp/positions.js";
import { analyze, ParseCache, type Analysis, type FileAnalysis } from "../../lsp/analysis.js";
import { Workspace } from "../../lsp/workspace.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Every folder of the repository that holds runbooks directly. */
function runbookFolders(): string[] {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== "node_modules" && !e.name.startsWith(".")) walk(full);
      else if (e.name.endsWith(".runbook")) out.add(dir);
    }
  };
  walk(path.join(ROOT, "runbooks"));
  walk(path.join(ROOT, "test"));
  return [...out].sort();
}

/** Plain checks, not expect(): this runs hundreds of thousands of times. */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

function everyFeatureAt(a: Analysis, f: FileAnalysis, offset: number): void {
  const where = `${f.file} at offset ${offset}`;
  const h = hover(a, f, offset);
  if (h) check(typeof (h.contents as { value: string }).value === "string", `hover ${where}`);
  const d = definition(a, f, offset);
  if (d) {
    const file = uriToPath(d.uri)!;
    check((fs.existsSync(file) || a.files.has(file)) && d.range.start.line >= 0, `definition ${where} points to ${file}`);
  }
  for (const item of completion(a, f, offset)) check(item.label !== "", `completion ${where}`);
  const prepared = prepareRename(a, f, offset);
  if (!(prepared instanceof Error)) {
    const edit = rename(a, f, offset, "renamed_local");
    if (!(edit instanceof Error)) check(Object.values(edit.changes!)[0]!.length > 0, `rename ${where}`);
  }
}

/** Where answers can change: the start and end of every token, and the ends of the file. */
function boundaries(text: string): number[] {
  const at = new Set([0, text.length]);
  for (const t of lex(text).tokens) {
    at.add(t.startOffset);
    at.add(t.startOffset + 1);
    at.add(t.startOffset + t.image.length);
  }
  return [...at].filter((o) => o <= text.length);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("editor features on every runbook of the repository", () => {
  it("answer at every token boundary of every file without throwing", async () => {
    let files = 0;
    for (const folder of runbookFolders()) {
      const a = new Workspace([folder]).analysis();
      for (const f of a.files.values()) {
        files++;
        documentSymbols(f);
        for (const offset of boundaries(f.text)) everyFeatureAt(a, f, offset);
        await tick(); // let vitest's worker talk to its parent
      }
    }
    expect(files).toBeGreaterThan(200);
  }, 600_000);

  it("answer on files cut short at many points, as while typing", async () => {
    const cache = new ParseCache();
    const folder = path.join(ROOT, "runbooks");
    const names = fs.readdirSync(folder).filter((n) => n.endsWith(".runbook"));
    for (const name of names) {
      const file = path.join(folder, name);
      const text = fs.readFileSync(file, "utf8");
      for (let cut = 0; cut <= text.length; cut += 13) {
        const a = analyze([{ file, text: text.slice(0, cut) }], [], cache);
        const f = a.files.get(file)!;
        documentSymbols(f);
        everyFeatureAt(a, f, cut);
        everyFeatureAt(a, f, Math.floor(cut / 2));
      }
      await tick();
    }
  }, 600_000);

  it("reports a file of the folder that is not a runbook's text (binary) as the compiler does, and checks the rest", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-lsp-robust-"));
    try {
      fs.writeFileSync(path.join(dir, "blob.runbook"), Buffer.from([0x72, 0x75, 0xff, 0xfe, 0x00, 0x01, 0x80]));
      fs.writeFileSync(path.join(dir, "ok.runbook"), "runbook ok(n: number) -> number {\n  return n\n}\n");
      const a = new Workspace([dir]).analysis();
      const blob = a.diagnostics.get(path.join(dir, "blob.runbook")) ?? [];
      expect(blob.map((d) => d.code)).toEqual(["RB9002"]);
      expect(a.diagnostics.get(path.join(dir, "ok.runbook"))).toBeUndefined();
      expect(a.runbooks.has("ok")).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
