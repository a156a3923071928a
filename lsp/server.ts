// The language server: wires the LSP requests and notifications of one connection to the
// workspace (lsp/workspace.ts) and the features (one file each). Nothing here knows the
// language; a handler only turns a URI and position into a file analysis and an offset.
//
// Diagnostics: after a change the whole project is analysed once (changes that arrive together
// are analysed together), then the changed file's diagnostics are always published (the editor
// waits for them) and every other file's only when they differ from what it has.
import type { Connection, InitializeParams, InitializeResult, Position, TextDocumentIdentifier } from "vscode-languageserver";
import { TextDocumentSyncKind } from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { FileAnalysis, Analysis } from "./analysis.js";
import { completion } from "./completion.js";
import { definition } from "./definition.js";
import { toLspDiagnostic } from "./diagnostics.js";
import { hover } from "./hover.js";
import { pathToUri, uriToPath } from "./positions.js";
import { prepareRename, rename } from "./rename.js";
import { documentSymbols } from "./symbols.js";
import { Workspace } from "./workspace.js";

export function serve(connection: Connection): void {
  let workspace: Workspace | undefined;
  const published = new Map<string, string>();
  const forced = new Set<string>();
  let scheduled = false;

  const log = (message: string) => connection.console.error(message);

  const publish = () => {
    scheduled = false;
    if (!workspace) return;
    const a = workspace.analysis();
    const files = new Set([...workspace.files(), ...a.diagnostics.keys(), ...published.keys()]);
    for (const file of files) {
      const list = (a.diagnostics.get(file) ?? []).map(toLspDiagnostic);
      const key = JSON.stringify(list);
      if (!forced.has(file) && (published.get(file) ?? "[]") === key) continue;
      published.set(file, key);
      const version = workspace.document(file)?.version;
      void connection.sendDiagnostics({ uri: pathToUri(file), diagnostics: list, ...(version === undefined ? {} : { version }) });
    }
    forced.clear();
  };
  const schedule = (file?: string) => {
    if (file) forced.add(file);
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => guard("diagnostics", publish, undefined));
  };

  /** Runs a handler; a bug in one becomes a logged line and an empty answer, never a dead server. */
  function guard<R>(what: string, f: () => R, fallback: R): R {
    try {
      return f();
    } catch (err) {
      log(`runbook lsp: ${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return fallback;
    }
  }

  /** The analysis of a document and the offset of a position in it. */
  const at = (doc: TextDocumentIdentifier, position: Position): { a: Analysis; f: FileAnalysis; offset: number } | undefined => {
    const file = uriToPath(doc.uri);
    if (!file || !workspace) return undefined;
    const a = workspace.analysis();
    const f = a.files.get(file);
    if (!f) return undefined;
    const text = workspace.document(file) ?? TextDocument.create(doc.uri, "runbook", 0, f.text);
    return { a, f, offset: text.offsetAt(position) };
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const roots = (params.workspaceFolders ?? []).map((w) => uriToPath(w.uri)).filter((p): p is string => p !== undefined);
    const root = params.rootUri ? uriToPath(params.rootUri) : (params.rootPath ?? undefined);
    workspace = new Workspace(roots.length ? roots : [root ?? process.cwd()]);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        definitionProvider: true,
        completionProvider: { triggerCharacters: [".", "(", ","] },
        documentSymbolProvider: true,
        renameProvider: { prepareProvider: true },
      },
      serverInfo: { name: "runbook lsp" },
    };
  });
  connection.onInitialized(() => schedule());

  connection.onDidOpenTextDocument(({ textDocument: d }) => {
    const file = uriToPath(d.uri);
    if (!file || !workspace) return;
    workspace.open(file, d.text, d.version);
    schedule(file);
  });
  connection.onDidChangeTextDocument(({ textDocument: d, contentChanges }) => {
    const file = uriToPath(d.uri);
    if (!file || !workspace) return;
    workspace.change(file, contentChanges, d.version);
    schedule(file);
  });
  connection.onDidCloseTextDocument(({ textDocument: d }) => {
    const file = uriToPath(d.uri);
    if (!file || !workspace) return;
    workspace.close(file);
    schedule();
  });
  connection.onDidChangeWatchedFiles(({ changes }) => {
    if (!workspace) return;
    for (const c of changes) {
      const file = uriToPath(c.uri);
      if (file) workspace.changedOnDisk(file);
    }
    schedule();
  });

  connection.onHover(({ textDocument, position }) => guard("hover", () => {
    const x = at(textDocument, position);
    return x ? hover(x.a, x.f, x.offset) : null;
  }, null));
  connection.onDefinition(({ textDocument, position }) => guard("definition", () => {
    const x = at(textDocument, position);
    return x ? definition(x.a, x.f, x.offset) : null;
  }, null));
  connection.onCompletion(({ textDocument, position }) => guard("completion", () => {
    const x = at(textDocument, position);
    return x ? completion(x.a, x.f, x.offset) : [];
  }, []));
  connection.onDocumentSymbol(({ textDocument }) => guard("symbols", () => {
    const file = uriToPath(textDocument.uri);
    const f = file && workspace?.analysis().files.get(file);
    return f ? documentSymbols(f) : [];
  }, []));
  connection.onPrepareRename(({ textDocument, position }) => guard("rename", () => {
    const x = at(textDocument, position);
    return x ? prepareRename(x.a, x.f, x.offset) : null;
  }, null));
  connection.onRenameRequest(({ textDocument, position, newName }) => guard("rename", () => {
    const x = at(textDocument, position);
    return x ? rename(x.a, x.f, x.offset, newName) : null;
  }, null));

  connection.listen();
}
