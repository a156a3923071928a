// The VS Code client: starts `runbook lsp` over stdio in the workspace folder. Plain CommonJS so
// the folder installs with no build step.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("runbook").get("command", ["npx", "runbook"]);
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const server = { command, args: [...args, "lsp"], transport: TransportKind.stdio, options: { cwd, shell: process.platform === "win32" } };
  client = new LanguageClient("runbook", "Runbook", server, {
    documentSelector: [{ scheme: "file", language: "runbook" }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{runbook,ts}") },
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client?.stop();
}

module.exports = { activate, deactivate };
