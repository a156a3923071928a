// Unit tests of the TypeScript → runbook type mapping (compiler/activity-types.ts, through
// loadActivityModule), on the declarations of fixtures/mapping.ts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadActivityModule, type ActivityFunction } from "../../compiler/activities.js";
import type { Type } from "../../compiler/types.js";

const runbook = path.join("test", "activities", "fixtures", "caller.runbook");
const mod = loadActivityModule(runbook, "./mapping.ts", "t");

/** A compact rendering of a Type, local to this test so it pins the data, not a printer. */
function show(t: Type): string {
  switch (t.kind) {
    case "list":
      return `list<${show(t.element)}>`;
    case "map":
      return `map<${show(t.value)}>`;
    case "optional":
      return `${show(t.inner)}?`;
    case "record":
      return `{${Object.entries(t.fields).map(([k, v]) => `${k}: ${show(v)}`).join(", ")}}`;
    default:
      return t.kind;
  }
}

function sig(name: string): string {
  const f = mod.functions.get(name) as ActivityFunction;
  expect(f, `function ${name}`).toBeDefined();
  const params = f.params.map((p) => `${p.name}${p.optional ? "?" : ""}: ${show(p.type)}`).join(", ");
  return `(${params}) -> ${show(f.returns)}`;
}

const VM = "{id: string, cpus: number, up: bool, tags: list<string>, labels: map<string>, ip: string?, note: string?}";

describe("type mapping", () => {
  it("reads the module without error", () => {
    expect(mod.error).toBeUndefined();
    expect(mod.alias).toBe("t");
    expect(mod.path).toBe(path.resolve("test/activities/fixtures/mapping.ts"));
  });

  it.each([
    ["primitives", "(s: string, n: number, b: bool, lit: string, tpl: string) -> string"],
    ["optionals", "(a?: string, b?: string?, c?: number, d?: bool?) -> number?"],
    ["collections", `(xs: list<number>, ys: list<string>, zs: list<bool>, m: map<number>, r: map<${VM}>) -> list<${VM}>`],
    ["interfaces", `() -> ${VM}`],
    ["arrow", "(host: string, port?: number) -> {host: string, open: bool, latencyMs: number}"],
    ["anything", "(u: any, a: any) -> any"],
    ["nothing", "(id: string) -> null"],
    ["returnsUndefined", "() -> null"],
    ["noArgs", "() -> {at: string, nested: {deep: {list: list<list<number>>}}}"],
    ["tagged", "() -> any"],
    ["tree", "() -> {name: string, children: list<any>}"],
    ["tuple", "() -> list<number>"],
    ["optionalArgs", "(verbose?: bool) -> bool"],
    ["withRest", "(a: string) -> string"],
    ["enums", "(c: string) -> string"],
    ["intersection", "(a: string, b: number) -> {x: string, y: number}"],
    ["syncReturn", "(x: number) -> number"],
  ])("%s", (name, expected) => {
    const f = mod.functions.get(name)!;
    expect(sig(name)).toBe(expected);
    expect(f.unserializable).toBeUndefined();
    expect(f.unsupportedParam).toBeUndefined();
  });

  it("keeps declaration order of the argument object's properties", () => {
    expect(mod.functions.get("primitives")!.params.map((p) => p.name)).toEqual(["s", "n", "b", "lit", "tpl"]);
  });

  it("lists only functions", () => {
    for (const name of ["VERSION", "Helper", "Alias", "Color", "Vm", "Tree", "Connection"]) {
      expect(mod.functions.has(name), name).toBe(false);
    }
  });

  it("points at the declaration, as seen from the runbook", () => {
    const f = mod.functions.get("primitives")!;
    const text = fs.readFileSync("test/activities/fixtures/mapping.ts", "utf8");
    expect(f.declaration.file).toBe(path.join("test", "activities", "fixtures", "mapping.ts"));
    expect(text.slice(f.declaration.start.offset).startsWith("export async function primitives(")).toBe(true);
    expect(f.declaration.start.line).toBe(text.slice(0, f.declaration.start.offset).split("\n").length);
    expect(f.declaration.start.column).toBe(1);
    const arrow = mod.functions.get("arrow")!;
    expect(text.slice(arrow.declaration.start.offset).startsWith("export const arrow = ")).toBe(true);
    expect(f.module).toBe("t");
  });
});

describe("unserializable results name the offending part", () => {
  it.each([
    ["returnsDate", "t.returnsDate returns { created: Date }: Date is not serializable; return an ISO string"],
    ["returnsMap", "t.returnsMap returns { byName: Map<string, number> }: Map is not serializable; return a plain object"],
    ["returnsSet", "t.returnsSet returns Set<string>[]: Set is not serializable; return an array"],
    ["returnsFunction", "t.returnsFunction returns { onDone: () => void }: a function is not serializable"],
    ["returnsClass", "t.returnsClass returns Connection: an instance of class Connection is not serializable; return a plain object"],
    ["returnsBigint", "t.returnsBigint returns { total: bigint }: bigint is not serializable; return a number or a string"],
    ["returnsSymbol", "t.returnsSymbol returns { id: symbol }: symbol is not serializable"],
    ["returnsUndefinedField", "t.returnsUndefinedField returns { value: undefined }: undefined is not serializable inside an object; use null or an optional property"],
    ["returnsUndefinedInList", "t.returnsUndefinedInList returns (string | undefined)[]: undefined is not serializable inside an array; use null"],
    ["returnsMixedUnion", "t.returnsMixedUnion returns { value: string | number }: string | number is not a supported union; use one type, a union with null, or unknown"],
    ["returnsNestedDate", "t.returnsNestedDate returns { vms: { seen: Date[] }[] }: Date is not serializable; return an ISO string"],
  ])("%s", (name, message) => {
    const f = mod.functions.get(name)!;
    expect(f.unserializable).toBe(message);
    expect(f.returns.kind).toBe("error");
  });
});

describe("unsupported parameters", () => {
  it.each([
    ["positional", "t.positional takes string as its first parameter: an activity takes one object of named arguments, e.g. (args: { name: string })"],
    ["takesDate", "t.takesDate takes { when: Date }: Date is not serializable; take an ISO string"],
    ["takesCallback", "t.takesCallback takes { onDone: () => void }: a function is not serializable"],
    ["threeArgs", "t.threeArgs has a required parameter 'extra' after its context; an activity takes (args, ctx?)"],
  ])("%s", (name, message) => {
    expect(mod.functions.get(name)!.unsupportedParam).toBe(message);
    expect(mod.functions.get(name)!.unserializable).toBeUndefined();
  });
});

describe("module problems are one-line errors, never exceptions", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rb-act-"));
  const rb = path.join(dir, "main.runbook");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("not found", () => {
    const m = loadActivityModule(rb, "./missing.ts", "x");
    expect(m.error).toBe(`no such file ${path.join(dir, "missing.ts")}`);
    expect(m.functions.size).toBe(0);
  });

  it("not TypeScript", () => {
    fs.writeFileSync(path.join(dir, "a.js"), "export function f() {}\n");
    expect(loadActivityModule(rb, "./a.js", "x").error).toBe("an activity module must be a TypeScript file (.ts)");
  });

  it("a folder", () => {
    fs.mkdirSync(path.join(dir, "folder.ts"), { recursive: true });
    expect(loadActivityModule(rb, "./folder.ts", "x").error).toBe(`${path.join(dir, "folder.ts")} is not a file`);
  });

  it("a declaration file", () => {
    fs.writeFileSync(path.join(dir, "x.d.ts"), "export declare function f(): void;\n");
    expect(loadActivityModule(rb, "./x.d.ts", "x").error).toBe("a declaration file (.d.ts) has no code to run; use the .ts module");
  });

  it("a syntax error, with its position", () => {
    fs.writeFileSync(path.join(dir, "bad.ts"), "export function f(args: { a: string ) {\n  return 1;\n}\n");
    const m = loadActivityModule(rb, "./bad.ts", "x");
    expect(m.error).toMatch(new RegExp(`^TypeScript syntax error at ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/bad\\.ts:1:\\d+: .+$`));
    expect(m.error).not.toContain("\n");
  });

  it("sees a changed module (cache keyed by modification time)", () => {
    const file = path.join(dir, "live.ts");
    fs.writeFileSync(file, "export function one(args: { a: string }): number { return 1; }\n");
    expect([...loadActivityModule(rb, "./live.ts", "x").functions.keys()]).toEqual(["one"]);
    fs.writeFileSync(file, "export function two(args: { b: number }): string { return ''; }\n");
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    const m = loadActivityModule(rb, "./live.ts", "x");
    expect([...m.functions.keys()]).toEqual(["two"]);
    expect(m.functions.get("two")!.params).toEqual([{ name: "b", type: { kind: "number" }, optional: false }]);
  });

  it("types from packages are not read: they map to any (the run-time check still applies)", () => {
    fs.writeFileSync(path.join(dir, "pkg.ts"), 'import type { Readable } from "node:stream";\nexport function stream(args: { s: string }): Readable { return null as never; }\nexport function buffer(): { data: Buffer; at: Date } { return null as never; }\n');
    const m = loadActivityModule(rb, "./pkg.ts", "x");
    expect(m.functions.get("stream")!.returns).toEqual({ kind: "any" });
    expect(m.functions.get("buffer")!.unserializable).toBe("x.buffer returns { at: Date }: Date is not serializable; return an ISO string");
  });

  it("takes an absolute use path as it is", () => {
    const abs = path.resolve("test/activities/fixtures/mapping.ts");
    const m = loadActivityModule("elsewhere/x.runbook", abs, "t");
    expect(m.error).toBeUndefined();
    expect(m.path).toBe(abs);
    expect(m.functions.get("primitives")!.declaration.file).toBe(abs);
  });

  it("resolves imported types from other files", () => {
    fs.writeFileSync(path.join(dir, "types.ts"), "export interface Disk { device: string; usedPercent: number }\n");
    fs.writeFileSync(path.join(dir, "uses.ts"), 'import type { Disk } from "./types.js";\nexport async function disks(): Promise<Disk[]> { return []; }\n');
    const f = loadActivityModule(rb, "./uses.ts", "x").functions.get("disks")!;
    expect(f.returns).toEqual({ kind: "list", element: { kind: "record", fields: { device: { kind: "string" }, usedPercent: { kind: "number" } } } });
  });
});
