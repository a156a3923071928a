// `runbook lsp` driven as an editor drives it: a child process over stdio with LSP framing. A
// folder with two runbooks and an activity module; the open file has a type error, gets fixed,
// and every feature is asked at real positions of it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CompletionRequest,
  DefinitionRequest,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  DocumentSymbolRequest,
  HoverRequest,
  PrepareRenameRequest,
  RenameRequest,
  type CompletionItem,
  type DocumentSymbol,
  type Location,
  type MarkupContent,
  type WorkspaceEdit,
} from "vscode-languageserver-protocol";
import { LspClient, uri } from "./client.js";

const ACTIVITIES = `// Activities of the test folder.

/** Creates a VM and returns its id. */
export async function create_vm(args: { name: string; size?: string }): Promise<{ id: string; ip: string }> {
  return { id: args.name, ip: "10.0.0.1" };
}
`;

const HELPER = `# Restarts the app on one host.
# Returns how many restarts it made.
runbook helper(host: string, batch: number = 5) -> number {
  log "restarting \${host}"
  return batch
}
`;

// Line 4 (1-based) has the type error; the fix replaces "three" with 3.
const MAIN = `use "./activities.ts" as infra

runbook main(hosts: list<string>) {
  let count: number = "three"
  let vm = infra.create_vm(name: "a")
  let n = helper(hosts[0], batch: count)
  for h in hosts {
    output "\${h}: \${vm.id} \${n}"
  }
}
`;

/** The 0-based position of the `nth` occurrence of `needle` in `text`, plus `delta` characters. */
function pos(text: string, needle: string, delta = 0, nth = 1): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`no ${needle} in the text`);
  }
  at += delta;
  const before = text.slice(0, at).split("\n");
  return { line: before.length - 1, character: before[before.length - 1]!.length };
}

let dir: string;
let client: LspClient;
let main: string;
let fixed: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-lsp-"));
  fs.writeFileSync(path.join(dir, "activities.ts"), ACTIVITIES);
  fs.writeFileSync(path.join(dir, "helper.runbook"), HELPER);
  main = path.join(dir, "main.runbook");
  fs.writeFileSync(main, MAIN);
  client = new LspClient(dir);
  await client.initialize(dir);
}, 180_000);

afterAll(async () => {
  await client?.close();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("runbook lsp over stdio", () => {
  it("publishes a type error at its line when the file is opened, and an empty list once it is fixed", async () => {
    const first = client.diagnostics(main, 1);
    await client.open(main, MAIN, 1);
    const opened = await first;
    expect(opened.diagnostics).toHaveLength(1);
    const d = opened.diagnostics[0]!;
    expect(d.range.start).toEqual({ line: 3, character: 22 });
    expect(d.message).toMatch(/`count` is declared as number but its value is string|string/);
    expect(d.code).toMatch(/^RB2/);

    const start = pos(MAIN, '"three"');
    const second = client.diagnostics(main, 2);
    await client.edit(main, { start, end: { line: start.line, character: start.character + '"three"'.length } }, "3", 2);
    expect((await second).diagnostics).toEqual([]);
    fixed = MAIN.replace('"three"', "3");
  }, 120_000);

  it("reports an error in a file that depends on the edited one, and clears it", async () => {
    // helper loses its `batch` parameter: main's call `helper(..., batch: count)` breaks.
    const helper = path.join(dir, "helper.runbook");
    const broken = HELPER.replace(", batch: number = 5", "").replace("return batch", "return 1");
    const inMain = client.diagnostics(main);
    await client.open(helper, broken, 1);
    const d = (await inMain).diagnostics;
    expect(d.length).toBeGreaterThan(0);
    expect(d[0]!.range.start.line).toBe(5);
    expect(d[0]!.message).toContain("batch");

    const cleared = client.diagnostics(main);
    await client.replace(helper, HELPER, 2);
    expect((await cleared).diagnostics).toEqual([]);
  }, 120_000);

  it("re-checks the callers when an activity module changes on disk (a watched-file event)", async () => {
    const activities = path.join(dir, "activities.ts");
    const changed = client.diagnostics(main);
    fs.writeFileSync(activities, ACTIVITIES.replace("args: { name: string;", "args: { hostname: string;").replace("args.name", "args.hostname"));
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uri(activities), type: FileChangeType.Changed }] });
    const d = (await changed).diagnostics;
    expect(d.length).toBeGreaterThan(0);
    expect(d.map((x) => x.range.start.line)).toContain(4);
    expect(d.map((x) => x.message).join("\n")).toMatch(/hostname|name/);

    const restored = client.diagnostics(main);
    fs.writeFileSync(activities, ACTIVITIES);
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uri(activities), type: FileChangeType.Changed }] });
    expect((await restored).diagnostics).toEqual([]);
  }, 120_000);

  it("hovers a local's inferred type, a runbook's signature with its doc comment, and an activity's", async () => {
    const hover = async (p: { line: number; character: number }) => {
      const h = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri(main) }, position: p });
      return (h?.contents as MarkupContent | undefined)?.value ?? "";
    };
    expect(await hover(pos(fixed, "vm.id", 1))).toContain("let vm: {id: string, ip: string}");
    expect(await hover(pos(fixed, "${h}", 2))).toContain("(for) h: string");
    const helper = await hover(pos(fixed, "helper(", 2));
    expect(helper).toContain("runbook helper(host: string, batch: number = 5) -> number");
    expect(helper).toContain("Restarts the app on one host.\nReturns how many restarts it made.");
    const activity = await hover(pos(fixed, "create_vm", 3));
    expect(activity).toContain("infra.create_vm(name: string, size?: string) -> {id: string, ip: string}");
    expect(activity).toContain("Creates a VM and returns its id.");
  }, 60_000);

  it("goes to definitions: a runbook in another file, an activity's TypeScript declaration, a local's let", async () => {
    const define = async (p: { line: number; character: number }) =>
      (await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: uri(main) }, position: p })) as Location;
    const rb = await define(pos(fixed, "helper(", 1));
    expect(rb.uri).toBe(uri(path.join(dir, "helper.runbook")));
    expect(rb.range.start).toEqual({ line: 2, character: 8 });
    const fn = await define(pos(fixed, "create_vm", 2));
    expect(fn.uri).toBe(uri(path.join(dir, "activities.ts")));
    expect(fn.range.start).toEqual(pos(ACTIVITIES, "export async function"));
    const local = await define(pos(fixed, "batch: count", 8));
    expect(local.uri).toBe(uri(main));
    expect(local.range.start).toEqual(pos(fixed, "count"));
  }, 60_000);

  it("completes activity functions after `alias.`, named parameters in a call, and locals in scope", async () => {
    const complete = async (text: string, p: { line: number; character: number }, version: number) => {
      await client.replace(main, text, version);
      const r = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: uri(main) }, position: p });
      return (Array.isArray(r) ? r : (r?.items ?? [])) as CompletionItem[];
    };
    // Typing a new line `  let z = infra.` at the end of the loop's body.
    const typing = fixed.replace('${n}"\n', '${n}"\n    let z = infra.\n');
    const afterDot = await complete(typing, pos(typing, "infra.\n", 6), 10);
    expect(afterDot.map((i) => i.label)).toEqual(["create_vm"]);
    expect(afterDot[0]!.detail).toBe("infra.create_vm(name: string, size?: string) -> {id: string, ip: string}");

    const inCall = fixed.replace('${n}"\n', '${n}"\n    let z = helper(h, \n');
    const args = await complete(inCall, pos(inCall, "helper(h, ", 10), 11);
    const labels = args.map((i) => i.label);
    expect(labels.slice(0, 2)).toEqual(["host:", "batch:"]); // first, in declaration order
    for (const name of ["h", "hosts", "count", "vm", "n", "helper", "main", "infra", "len", "exec", "checkpoint", "let"]) expect(labels).toContain(name);
    expect(labels).not.toContain("z"); // declared by this very statement

    const interpolating = fixed.replace('${n}"\n', '${n}"\n    log "at ${v\n');
    const inInterpolation = await complete(interpolating, pos(interpolating, "at ${v", 6), 20);
    expect(inInterpolation.map((i) => i.label)).toEqual(expect.arrayContaining(["vm", "h", "n", "len"]));
    const fieldTyping = fixed.replace('${n}"\n', '${n}"\n    log "at ${vm.\n');
    const fields = await complete(fieldTyping, pos(fieldTyping, "at ${vm.", 8), 21);
    expect(fields.map((i) => i.label)).toEqual(["id", "ip"]);
    const plain = fixed.replace('${n}"\n', '${n}"\n    log "plain te\n');
    expect(await complete(plain, pos(plain, "plain te", 8), 22)).toEqual([]);

    const outside = await complete(fixed, pos(fixed, "  }\n}", 3), 23);
    expect(outside.map((i) => i.label)).not.toContain("h"); // the loop's name is out of scope after it
    await client.replace(main, fixed, 24);
  }, 60_000);

  it("lists the document's symbols", async () => {
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uri(main) } })) as DocumentSymbol[];
    expect(symbols.map((s) => s.name)).toEqual(["infra", "main"]);
    expect(symbols[1]!.children!.map((c) => c.name)).toEqual(["hosts", "count", "vm", "n", "h"]);
  }, 60_000);

  it("renames a local everywhere it is used, and refuses a name that would capture another", async () => {
    const at = pos(fixed, "count", 2, 2); // the reference in the call
    const prepared = await client.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: uri(main) }, position: at });
    expect(prepared).toMatchObject({ placeholder: "count" });
    const edit = (await client.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri(main) }, position: at, newName: "total" })) as WorkspaceEdit;
    const edits = edit.changes![uri(main)]!;
    expect(edits.map((e) => e.range.start).sort((a, b) => a.line - b.line)).toEqual([pos(fixed, "count"), pos(fixed, "count", 0, 2)]);
    expect(edits.every((e) => e.newText === "total")).toBe(true);

    // A `for` name used inside a string's interpolation.
    const loop = (await client.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri(main) }, position: pos(fixed, "for h", 4), newName: "host" })) as WorkspaceEdit;
    expect(loop.changes![uri(main)]!.map((e) => e.range.start)).toEqual([pos(fixed, "for h", 4), pos(fixed, "${h}", 2)]);

    await expect(client.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri(main) }, position: at, newName: "vm" })).rejects.toThrow(/already a local/);
    await expect(client.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri(main) }, position: at, newName: "while" })).rejects.toThrow(/reserved word/);
    await expect(client.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: uri(main) }, position: pos(fixed, "helper(", 1) })).rejects.toThrow(/only a local/);
  }, 60_000);
});
