// An LSP client for tests and the benchmark: starts `runbook lsp --stdio` as a child process, as
// an editor does, and talks to it over its stdin/stdout with LSP framing (vscode-jsonrpc, the
// library VS Code's own client is built on).
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import {
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  type PublishDiagnosticsParams,
} from "vscode-languageserver-protocol";

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/runbook.js");

export function uri(file: string): string {
  return pathToFileURL(file).href;
}

export class LspClient {
  readonly connection: MessageConnection;
  readonly stderr: string[] = [];
  private readonly published: PublishDiagnosticsParams[] = [];
  private readonly waiting: { match: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  private readonly child: ChildProcess;

  /** The server's process id. */
  get pid(): number {
    return this.child.pid!;
  }

  constructor(cwd: string) {
    this.child = spawn(process.execPath, [BIN, "lsp", "--stdio"], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr!.on("data", (d) => this.stderr.push(String(d)));
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
      this.published.push(p);
      const i = this.waiting.findIndex((w) => w.match(p));
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(p);
    });
    this.connection.listen();
  }

  async initialize(root: string): Promise<void> {
    await this.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: uri(root),
      workspaceFolders: [{ uri: uri(root), name: path.basename(root) }],
      capabilities: {},
    });
    await this.connection.sendNotification(InitializedNotification.type, {});
  }

  /** The next diagnostics published for `file` (at `version`, when given) from now on. */
  diagnostics(file: string, version?: number): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve) => {
      this.waiting.push({ match: (p) => p.uri === uri(file) && (version === undefined || p.version === version), resolve });
    });
  }

  async open(file: string, text: string, version = 1): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: uri(file), languageId: "runbook", version, text } });
  }

  /** Replaces the whole text (a full-document change). */
  async replace(file: string, text: string, version: number): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: uri(file), version }, contentChanges: [{ text }] });
  }

  /** Changes one range (an incremental change, as editors send them while typing). */
  async edit(file: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }, text: string, version: number): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: uri(file), version }, contentChanges: [{ range, text }] });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    try {
      await this.connection.sendRequest(ShutdownRequest.type);
      await this.connection.sendNotification(ExitNotification.type);
    } finally {
      await exited;
      this.connection.dispose();
    }
  }
}
