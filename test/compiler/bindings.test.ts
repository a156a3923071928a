// The checker's record of what every name binds to (compiler/bindings.ts), and the lookups an
// editor makes with it: the name at a position (hover, go to definition, rename) and the locals
// in scope at a position (completion).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bindingAt, bindingsInScope, compile, type CheckedProject } from "../../compiler/index.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-bindings-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Line numbers matter below: keep the text as it is.
const MAIN = `use "./k8s.ts" as k8s
runbook main(hosts: list<string>, limit: number? = null) -> number {
  let total = 0
  for h in hosts {
    let n = len(h)
    total += n
  }
  if limit != null {
    total = total + limit
  }
  if true {
    let total = "shadow"
    output total
  }
  try {
    let r = k8s.scale(replicas: total)
    output r
  } catch err {
    output err.message
  }
  let later = helper(x: total)
  return later
}
`;
const HELPER = `runbook helper(x: number) -> number {
  return x * 2
}
`;
const K8S = `/** Scales the deployment. */
export async function scale(args: { replicas: number }): Promise<number> {
  return args.replicas;
}
`;

fs.writeFileSync(path.join(tmp, "main.runbook"), MAIN);
fs.writeFileSync(path.join(tmp, "helper.runbook"), HELPER);
fs.writeFileSync(path.join(tmp, "k8s.ts"), K8S);
const main = path.join(tmp, "main.runbook");

function checked(files?: { file: string; text: string }[]): CheckedProject {
  return compile({ paths: [tmp], files }, { emit: false }).program;
}

describe("bindings", () => {
  const program = checked();

  it("the project checks clean", () => {
    expect(program.diagnostics).toEqual([]);
  });

  it("a use resolves to its declaration, with its type and every use (for hover and rename)", () => {
    const at = bindingAt(program, { file: main, line: 6, column: 14 }); // `n` in `total += n`
    expect(at?.kind).toBe("local");
    if (at?.kind !== "local") return;
    expect(at.binding).toMatchObject({ name: "n", kind: "let", type: { kind: "number" } });
    expect(at.binding.id.span.start).toMatchObject({ line: 5, column: 9 });
    expect(at.binding.uses.map((u) => [u.span.start.line, u.span.start.column])).toEqual([[6, 14]]);

    const total = bindingAt(program, { file: main, line: 3, column: 8 }); // the declaration itself
    if (total?.kind !== "local") throw new Error("expected a local");
    expect(total.binding.uses.map((u) => [u.span.start.line, u.span.start.column])).toEqual([
      [6, 5],
      [9, 5],
      [9, 13],
      [16, 33],
      [21, 25],
    ]);
  });

  it("a narrowed use is the same binding; a shadowing declaration is its own", () => {
    const limit = bindingAt(program, { file: main, line: 9, column: 21 });
    if (limit?.kind !== "local") throw new Error("expected a local");
    expect(limit.binding).toMatchObject({ name: "limit", kind: "param", type: { kind: "optional", inner: { kind: "number" } } });
    expect(limit.binding.uses).toHaveLength(2);
    const shadow = bindingAt(program, { file: main, line: 13, column: 12 });
    if (shadow?.kind !== "local") throw new Error("expected a local");
    expect(shadow.binding).toMatchObject({ name: "total", type: { kind: "string" } });
    expect(shadow.binding.id.span.start.line).toBe(12);
    const err = bindingAt(program, { file: main, line: 19, column: 12 });
    expect(err?.kind === "local" && err.binding.kind).toBe("catch");
  });

  it("a callee resolves to the runbook, the activity's TypeScript declaration, or the built-in", () => {
    const helper = bindingAt(program, { file: main, line: 21, column: 15 });
    expect(helper).toMatchObject({ kind: "runbook", name: "helper", file: path.join(tmp, "helper.runbook") });
    const scale = bindingAt(program, { file: main, line: 16, column: 17 });
    if (scale?.kind !== "activity") throw new Error(`expected an activity, got ${scale?.kind}`);
    expect(scale.signature?.declaration.file).toMatch(/k8s\.ts$/);
    expect(scale.signature?.declaration.start.line).toBe(2);
    expect(scale.signature?.params.map((p) => p.name)).toEqual(["replicas"]);
    expect(bindingAt(program, { file: main, line: 5, column: 13 })).toMatchObject({ kind: "builtin", fn: "len" });
    expect(bindingAt(program, { file: main, line: 2, column: 1 })).toBeUndefined();
  });

  it("lists the locals in scope at a position (for completion), innermost first", () => {
    const names = (line: number, column: number) => bindingsInScope(program, { file: main, line, column }).map((b) => `${b.name}:${b.type.kind}`).sort();
    // Inside the for body, after `let n`.
    expect(names(6, 5)).toEqual(["h:string", "hosts:list", "limit:optional", "n:number", "total:number"]);
    // Inside the block that shadows `total`, after its `let`.
    expect(names(13, 5)).toEqual(["hosts:list", "limit:optional", "total:string"]);
    // In the catch: `err`, not the try block's `r`; `later` is not declared yet.
    expect(names(19, 5)).toEqual(["err:record", "hosts:list", "limit:optional", "total:number"]);
    expect(names(22, 3)).toEqual(["hosts:list", "later:number", "limit:optional", "total:number"]);
  });

  it("works on an unsaved buffer with a type error", () => {
    const edited = checked([{ file: main, text: MAIN.replace("let n = len(h)", 'let n = len(h) + "x"') }]);
    expect(edited.diagnostics.map((d) => d.span.start.line)).toEqual([5]);
    const at = bindingAt(edited, { file: main, line: 6, column: 14 });
    expect(at?.kind === "local" && at.binding.id.span.start.line).toBe(5);
  });
});
