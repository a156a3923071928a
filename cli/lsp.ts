// `runbook lsp`: the language server over stdio (lsp/server.ts). Stdout carries the protocol
// alone, so anything else that would print there goes to stderr (the editor's output panel).
import { createConnection, StreamMessageReader, StreamMessageWriter } from "vscode-languageserver/node";
import { serve } from "../lsp/server.js";

export async function lsp(): Promise<void> {
  const toStderr = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(" ")}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.warn = toStderr;
  const connection = createConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
  // The editor closing the pipe ends the server, also without an `exit` notification.
  process.stdin.on("end", () => process.exit(0));
  serve(connection);
}
