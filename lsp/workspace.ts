// The folder the editor works on: the `.runbook` files under its root as on disk, overlaid with
// the documents open in the editor (their unsaved text wins), and the analysis of the whole, made
// again only after something changed. Activity modules (`.ts`) are read from disk by the
// compiler's own cache, which notices a changed file by its modification time.
import * as path from "node:path";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { TextDocumentContentChangeEvent } from "vscode-languageserver";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { findRunbookFiles, readSource } from "../compiler/program.js";
import { analyze, ParseCache, type Analysis, type SourceFile } from "./analysis.js";

export class Workspace {
  private readonly docs = new Map<string, TextDocument>();
  /** Runbook files found on disk under the roots → their text, or why it cannot be checked (too large, binary...). */
  private disk = new Map<string, string | Diagnostic>();
  private readonly parses = new ParseCache();
  private current: Analysis | undefined;

  constructor(private readonly roots: string[]) {
    this.rescan();
  }

  /** Find the runbooks under the roots again and reread them (files were created, deleted or saved). */
  rescan(): void {
    const disk = new Map<string, string | Diagnostic>();
    for (const root of this.roots) {
      const found = findRunbookFiles([root]);
      if (!Array.isArray(found)) continue; // no runbooks there (yet), or the folder is gone
      for (const f of found) disk.set(path.resolve(f), readSource(path.resolve(f)));
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
    if (this.disk.has(file)) this.disk.set(file, readSource(file));
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
    if (this.current) return this.current;
    const sources: SourceFile[] = [];
    const unreadable: Diagnostic[] = [];
    for (const file of this.files().sort()) {
      const text = this.docs.get(file)?.getText() ?? this.disk.get(file)!;
      if (typeof text === "string") sources.push({ file, text });
      else unreadable.push(text);
    }
    this.current = analyze(sources, unreadable, this.parses);
    return this.current;
  }
}
