// The folder the editor works on: the `.runbook` files under its root as on disk, overlaid with
// the documents open in the editor (their unsaved text wins), and the analysis of the whole, made
// again only after something changed. Activity modules (`.ts`) are read from disk by the
// compiler's own cache, which notices a changed file by its modification time.
import * as fs from "node:fs";
import * as path from "node:path";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { TextDocumentContentChangeEvent } from "vscode-languageserver";
import { findRunbookFiles } from "../compiler/program.js";
import { analyze, ParseCache, type Analysis, type SourceFile } from "./analysis.js";

export class Workspace {
  private readonly docs = new Map<string, TextDocument>();
  /** Runbook files found on disk under the roots → their text (undefined: unreadable). */
  private disk = new Map<string, string | undefined>();
  private readonly parses = new ParseCache();
  private current: Analysis | undefined;

  constructor(private readonly roots: string[]) {
    this.rescan();
  }

  /** Find the runbooks under the roots again and reread them (files were created, deleted or saved). */
  rescan(): void {
    const disk = new Map<string, string | undefined>();
    for (const root of this.roots) {
      const found = findRunbookFiles([root]);
      if (!Array.isArray(found)) continue; // no runbooks there (yet), or the folder is gone
      for (const f of found) disk.set(path.resolve(f), readText(path.resolve(f)));
    }
    this.disk = disk;
    this.current = undefined;
  }

  /** A file changed on disk: reread it if it is a runbook; any change may matter (an activity module). */
  changedOnDisk(file: string): void {
    if (file.endsWith(".runbook")) this.rescan();
    this.current = undefined;
  }

  open(file: string, text: string, version: number): void {
    this.docs.set(file, TextDocument.create(file, "runbook", version, text));
    this.current = undefined;
  }

  change(file: string, changes: TextDocumentContentChangeEvent[], version: number): void {
    const doc = this.docs.get(file);
    if (!doc) return;
    this.docs.set(file, TextDocument.update(doc, changes, version));
    this.current = undefined;
  }

  close(file: string): void {
    this.docs.delete(file);
    if (this.disk.has(file)) this.disk.set(file, readText(file));
    this.current = undefined;
  }

  /** The open document of `file`, if it is open. */
  document(file: string): TextDocument | undefined {
    return this.docs.get(file);
  }

  isOpen(file: string): boolean {
    return this.docs.has(file);
  }

  /** Every file of the project (on disk or open). */
  files(): string[] {
    return [...new Set([...this.disk.keys(), ...this.docs.keys()])];
  }

  analysis(): Analysis {
    if (!this.current) this.current = analyze(this.sources(), this.parses);
    return this.current;
  }

  private sources(): SourceFile[] {
    const out: SourceFile[] = [];
    for (const file of this.files().sort()) {
      const text = this.docs.get(file)?.getText() ?? this.disk.get(file);
      if (text !== undefined) out.push({ file, text });
    }
    return out;
  }
}

function readText(file: string): string | undefined {
  try {
    const text = fs.readFileSync(file, "utf8");
    return text.startsWith("\uFEFF") ? text.slice(1) : text;
  } catch {
    return undefined;
  }
}
