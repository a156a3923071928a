// Emission: one TypeScript module per runbook, built with ts-morph from the numbered cases
// (compiler/build.ts). The module imports only types (`./abi.js`), so the runtime can load its
// transpiled JavaScript from a data: URL; it exports `runbook: CompiledRunbook`.
//
// Layout of a module (see docs/compiler.md, "Reading an emitted module"):
//   NAME, FILE            the runbook and its source file
//   Params, Locals        the frame's slots, typed from the checker's types
//   Completion            a pending completion through a `finally` (only when used)
//   REGIONS, handle       the static try table and the catch dispatcher (only when used)
//   received              takes the driver's input at a landing (only when used)
//   runbook.step          `dispatch: for (;;) { try { switch (frame.pc) { case N: ... } } catch }`
import type { CodeBlockWriter, Project, StatementStructures, WriterFunction } from "ts-morph";
import { basename } from "node:path";
import type { Built, Case } from "./build.js";
import type { CheckedRunbook } from "./checked.js";
import type { Op, Request } from "./ir.js";
import type { LoweredRunbook } from "./lower.js";
import type { ModuleMetadata } from "./metadata.js";
import { argsObject, cast, condition, expr, iterableCode, writeAssign, writeJump, writeReturn, writeStatement, writeTick, type CodeContext } from "./native.js";
import { TICK_EVERY } from "../runtime/abi.js";
import { enclosingRetries } from "./retry-scope.js";
import { propertyName } from "./tstype.js";
import { tsMorph } from "./ts-morph.js";

export interface EmitInput {
  rb: CheckedRunbook;
  lowered: LoweredRunbook;
  built: Built;
  /** The module's metadata (compiler/metadata.ts), printed as its `runbook` object. */
  meta: ModuleMetadata;
}

const COMPLETION_TYPE =
  '{ type: "normal" } | { type: "break" | "continue"; pc: number } | { type: "return"; value: Json } | { type: "throw"; error: Json }';

/** The module text for one runbook. `project` is a scratch ts-morph project (in memory). */
export function emitModule(project: Project, input: EmitInput): string {
  const { StructureKind, VariableDeclarationKind } = tsMorph();
  const { rb, lowered, built } = input;
  const name = rb.signature.name;
  const c: CodeContext = {
    rb,
    slots: lowered.slots,
    pcOf: (label) => {
      const pc = built.pcs.get(label);
      if (pc === undefined) throw new Error(`emit: label ${label} has no case`);
      return pc;
    },
    jsTemps: 0,
    retryOf: enclosingRetries(rb),
    attempts: new Map([...lowered.retries].map(([stmt, slots]) => [stmt, `L.${slots.attempt}`])),
  };
  const usesCompletion = [...lowered.slots.all.values()].some((s) => s.ts === "Completion");
  const usesRegions = built.regions.length > 0;
  const usesReceived = lowered.ops.some((op) => op.op === "receive");

  const statements: (string | WriterFunction | StatementStructures)[] = [];
  statements.push({
    kind: StructureKind.ImportDeclaration,
    isTypeOnly: true,
    moduleSpecifier: "./abi.js",
    namedImports: ["CompiledRunbook", ...(usesRegions ? ["ErrorRecord"] : []), "Frame", "Input", "Json", "StepContext", "StepResult"],
  });
  statements.push({
    kind: StructureKind.VariableStatement,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [{ name: "NAME", initializer: JSON.stringify(name) }],
  });
  statements.push({
    kind: StructureKind.VariableStatement,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [{ name: "FILE", initializer: JSON.stringify(rb.file) }],
  });
  const params = [...lowered.slots.all.values()].filter((s) => s.kind === "param");
  const others = [...lowered.slots.all.values()].filter((s) => s.kind !== "param");
  statements.push({
    kind: StructureKind.Interface,
    name: "Params",
    docs: ["The runbook's parameters (arguments arrive in frame.locals under these names)."],
    properties: params.map((p) => ({ name: propertyName(p.name), type: p.ts })),
  });
  statements.push({
    kind: StructureKind.Interface,
    name: "Locals",
    docs: ["Every slot of a frame: parameters, locals (renamed `x$2` when shadowed), compiler temporaries (`$`)."],
    extends: ["Params"],
    properties: others.map((p) => ({ name: propertyName(p.name), type: p.ts })),
  });
  if (usesCompletion) {
    statements.push({
      kind: StructureKind.TypeAlias,
      name: "Completion",
      docs: ["How a try statement with a finally was left, pending until its finally ends (pc: a break/continue target)."],
      type: COMPLETION_TYPE,
    });
  }
  if (usesRegions) statements.push(...regionStatements(built));
  if (usesReceived) {
    statements.push({
      kind: StructureKind.Function,
      name: "received",
      docs: ["The value the driver delivered at a landing; an error delivered there is raised here."],
      parameters: [{ name: "input", type: "Input" }],
      returnType: "Json",
      statements: ["if (input === undefined) return null;", 'if ("error" in input) throw input.error;', "return input.value;"],
    });
  }
  // Statement writers rather than structures: ts-morph hangs an initializer's lines.
  statements.push((w) => {
    w.writeLine("/** Runs this frame from frame.pc to its next suspension point, call, return or escaping error. */");
    w.write("async function step(frame: Frame, ctx: StepContext, input: Input): Promise<StepResult> ").block(() => writeStep(w, c, input, usesRegions));
  });
  statements.push((w) => {
    w.write("export const runbook: CompiledRunbook = ");
    writeRunbookObject(w, input.meta);
    w.write(";").newLine();
  });

  const file = project.createSourceFile(`${name}.ts`, {
    leadingTrivia: [
      `// runbook ${name}, compiled from ${oneLine(rb.file)} by \`runbook compile\`. Do not edit: recompile.`,
      "// `step` is a state machine: each case runs from one resumable point to the next; its",
      "// comment names the .runbook line it starts at. All state lives in frame.locals (JSON).",
      "",
    ].join("\n"),
    statements,
  }, { overwrite: true });
  const text = file.getFullText();
  project.removeSourceFile(file);
  return text;
}

/** Text safe inside a line comment. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]/g, " ");
}

function regionStatements(built: Built): (StatementStructures | WriterFunction)[] {
  const { StructureKind } = tsMorph();
  const slot = (s: string | null): string => (s === null ? "null" : JSON.stringify(s));
  const rows = built.regions.map(
    (r) => `{ start: ${r.start}, handler: ${r.handler}, binding: ${slot(r.binding)}, finally: ${r.finally}, completion: ${slot(r.completion)}, end: ${r.end} },`,
  );
  return [
    {
      kind: StructureKind.Interface,
      name: "Region",
      docs: [
        "A protected region of pcs: [start, handler) is the try body, [handler, finally) the catch\nbody, [finally, end) the finally body; -1 when absent.",
      ],
      properties: [
        { name: "start", type: "number" },
        { name: "handler", type: "number" },
        { name: "binding", type: "string | null", docs: ["The slot that receives the caught error."] },
        { name: "finally", type: "number" },
        { name: "completion", type: "string | null", docs: ["The slot that holds the pending completion."] },
        { name: "end", type: "number" },
      ],
    },
    (w) => {
      w.writeLine("/** The static try table, innermost regions first: a pc's handler is a pure function of the pc. */");
      w.writeLine("const REGIONS: readonly Region[] = [");
      w.indent(() => rows.forEach((row) => w.writeLine(row)));
      w.writeLine("];");
    },
    {
      kind: StructureKind.Function,
      name: "handle",
      docs: ["Routes an error raised at frame.pc to its catch or finally; false when it escapes the frame."],
      parameters: [
        { name: "frame", type: "Frame" },
        { name: "error", type: "ErrorRecord" },
      ],
      returnType: "boolean",
      statements: [
        "const pc = frame.pc;",
        (w) => {
          w.write("for (const r of REGIONS) ").block(() => {
            w.writeLine("if (pc < r.start || pc >= r.end) continue;");
            w.write("if (r.handler >= 0 && pc < r.handler) ").block(() => {
              w.writeLine("frame.locals[r.binding!] = { ...error };");
              w.writeLine("frame.pc = r.handler;");
              w.writeLine("return true;");
            });
            w.write("if (r.finally >= 0 && pc < r.finally) ").block(() => {
              w.writeLine('frame.locals[r.completion!] = { type: "throw", error: { ...error } };');
              w.writeLine("frame.pc = r.finally;");
              w.writeLine("return true;");
            });
          });
        },
        "return false;",
      ],
    },
  ];
}

function writeRunbookObject(w: CodeBlockWriter, meta: ModuleMetadata): void {
  const uses = Object.keys(meta.uses);
  w.write("{").newLine();
  w.indent(() => {
    w.writeLine("name: NAME,");
    w.writeLine("file: FILE,");
    w.write("params: [").indent(() => {
      for (const p of meta.params) {
        w.writeLine(`{ name: ${JSON.stringify(p.name)}, type: ${JSON.stringify(p.type)}, typeData: ${JSON.stringify(p.typeData)}, hasDefault: ${p.hasDefault} },`);
      }
    });
    w.writeLine("],");
    w.writeLine(`returns: ${JSON.stringify(meta.returns)},`);
    w.writeLine(`canSuspend: ${meta.canSuspend},`);
    w.writeLine(`calls: ${JSON.stringify(meta.calls)},`);
    w.writeLine(`uses: {${uses.map((u) => ` ${propertyName(u)}: ${JSON.stringify(meta.uses[u])}`).join(",")}${uses.length ? " " : ""}},`);
    const liveRows = Object.entries(meta.live).map(([pc, slots]) => `${pc}: ${JSON.stringify(slots)}`);
    w.writeLine(`live: {${liveRows.length ? ` ${liveRows.join(", ")} ` : ""}},`);
    w.writeLine(`positions: {${Object.entries(meta.positions).map(([pc, [line, column]]) => ` ${pc}: [${line}, ${column}]`).join(",")} },`);
    if (meta.placement) w.writeLine(`placement: ${JSON.stringify(meta.placement)},`);
    w.writeLine("step,");
  });
  w.write("}");
}

function writeStep(w: CodeBlockWriter, c: CodeContext, input: EmitInput, usesRegions: boolean): void {
  const file = oneLine(basename(input.rb.file));
  w.writeLine("const L = frame.locals as unknown as Locals;");
  w.writeLine("const ops = ctx.ops;");
  w.writeLine(`let $budget = ${TICK_EVERY};`);
  w.write("dispatch: for (;;) ").block(() => {
    // Split loops go around through here without returning to the driver when their suspension
    // point is not reached (`while true { if false { checkpoint } }`): they yield here.
    writeTick(w);
    w.write("try ").inlineBlock(() => {
      w.write("switch (frame.pc) ").block(() => {
        for (const k of input.built.cases) writeCase(w, c, k, file);
        w.writeLine("default:");
        w.indent(() => {
          w.writeLine('return { kind: "throw", error: { message: `no state ${frame.pc} in runbook ${NAME}`, runbook: NAME, file: FILE, line: 0, column: 0, data: null } };');
        });
      });
    });
    w.write(" catch (e) ").block(() => {
      // Runbook errors carry the position they were raised at; anything else gets the pc's.
      w.writeLine("const [line, column] = runbook.positions[frame.pc] ?? [0, 0];");
      w.writeLine("const error = ops.fault(e, NAME, FILE, line, column);");
      if (usesRegions) w.writeLine('if (!handle(frame, error)) return { kind: "throw", error };');
      else w.writeLine('return { kind: "throw", error };');
    });
  });
}

function writeCase(w: CodeBlockWriter, c: CodeContext, k: Case, file: string): void {
  w.writeLine(`case ${k.pc}: {${k.at ? ` // ${file}:${k.at.line}` : ""}`);
  w.indent(() => {
    for (const op of k.ops) writeOp(w, c, op);
    if (k.fallsInto !== undefined) w.writeLine(`frame.pc = ${k.fallsInto}; // falls through`);
  });
  w.writeLine("}");
}

function writeOp(w: CodeBlockWriter, c: CodeContext, op: Op): void {
  switch (op.op) {
    case "mark":
      return;
    case "defaults":
      for (const p of op.params) {
        const slot = p.name.name;
        w.writeLine(`if (!Object.hasOwn(frame.locals, ${JSON.stringify(slot)})) L.${slot} = ${cast(c, slot, expr(c, p.default!), p.default)};`);
      }
      return;
    case "stmt":
      writeStatement(w, c, op.stmt, op.exits);
      return;
    case "br":
      writeJump(w, c, op.plan, op.record);
      return;
    case "brfalse":
      w.write(`if (!${condition(c, op.cond)}) `).block(() => {
        w.writeLine(`frame.pc = ${c.pcOf(op.target)};`);
        w.writeLine("continue dispatch;");
      });
      return;
    case "forInit":
      w.writeLine(`L.${op.iter} = ${iterableCode(c, op.iterable, op.pairs)};`);
      w.writeLine(`L.${op.index} = 0;`);
      return;
    case "forNext":
      w.write(`if (L.${op.index} >= L.${op.iter}.length) `).block(() => {
        w.writeLine(`frame.pc = ${c.pcOf(op.end)};`);
        w.writeLine("continue dispatch;");
      });
      if (op.names.length === 2) {
        w.writeLine(`L.${op.names[0]} = ${cast(c, op.names[0], `L.${op.iter}[L.${op.index}][0]`)};`);
        w.writeLine(`L.${op.names[1]} = ${cast(c, op.names[1], `L.${op.iter}[L.${op.index}][1]`)};`);
      } else {
        w.writeLine(`L.${op.names[0]} = ${cast(c, op.names[0], `L.${op.iter}[L.${op.index}]`)};`);
      }
      w.writeLine(`L.${op.index} += 1;`);
      return;
    case "retryInit": {
      const r = op.retry;
      w.writeLine(`L.${r.attempts} = ${op.attempts ? `${expr(c, op.attempts)} as number` : "3"};`);
      w.writeLine(`L.${r.delay} = ${op.delay ? `${expr(c, op.delay)} as number` : "0"};`);
      w.writeLine(`L.${r.backoff} = ${op.backoff ? `${expr(c, op.backoff)} as number` : "1"};`);
      w.writeLine(`L.${r.attempt} = 1;`);
      return;
    }
    case "retryFailed": {
      const r = op.retry;
      w.writeLine(`if (L.${r.attempt} >= L.${r.attempts}) throw L.${r.error};`);
      w.writeLine(`const ms = ops.mul(L.${r.delay}, Math.pow(L.${r.backoff}, L.${r.attempt} - 1), ${op.at.line}, ${op.at.column}) as number;`);
      w.writeLine(`L.${r.attempt} += 1;`);
      w.writeLine(`frame.pc = ${c.pcOf(op.again)};`);
      w.writeLine('if (ms > 0) return { kind: "sleep", ms };');
      w.writeLine("continue dispatch;");
      return;
    }
    case "suspend":
      writeRequest(w, c, op.request, c.pcOf(op.resume));
      return;
    case "receive": {
      const into = op.into;
      if (into.kind === "discard") {
        w.writeLine("received(input);");
        w.writeLine("input = undefined;");
        return;
      }
      w.writeLine("const value = received(input);");
      w.writeLine("input = undefined;");
      if (into.kind === "let") w.writeLine(`L.${into.slot} = ${cast(c, into.slot, "value")};`);
      else if (into.kind === "assign") writeAssign(w, c, into.stmt, "value");
      else writeReturn(w, c, into.plan, "value");
      return;
    }
    case "endFinally": {
      w.writeLine(`const completion = L.${op.completion};`);
      w.writeLine('if (completion.type === "throw") throw completion.error;');
      const ret = op.exits.return;
      if (ret) w.write('if (completion.type === "return") ').block(() => writeReturn(w, c, ret, "completion.value"));
      if (op.exits.jumps.length) {
        w.write('if (completion.type === "break" || completion.type === "continue") ').block(() => {
          for (const j of op.exits.jumps) {
            if (!j.plan.via) continue;
            const via = j.plan.via;
            w.write(`if (completion.pc === ${c.pcOf(j.target)}) `).block(() => {
              w.writeLine(`L.${via.completion} = completion;`);
              w.writeLine(`frame.pc = ${c.pcOf(via.finally)};`);
              w.writeLine("continue dispatch;");
            });
          }
          w.writeLine("frame.pc = completion.pc;");
          w.writeLine("continue dispatch;");
        });
      }
      w.writeLine(`frame.pc = ${c.pcOf(op.next)};`);
      w.writeLine("continue dispatch;");
      return;
    }
    case "end":
      w.writeLine('return { kind: "return", value: null };');
      return;
  }
}

/** Evaluates the request's operands (at the current pc, so an error there is caught here), then
 * moves the pc to the resume point and returns the request. */
function writeRequest(w: CodeBlockWriter, c: CodeContext, r: Request, resume: number): void {
  const ret = (fields: string): void => {
    w.writeLine(`frame.pc = ${resume};`);
    w.writeLine(`return { ${fields} };`);
  };
  const pre = (code: string): void => void w.writeLine(code);
  switch (r.kind) {
    case "checkpoint":
      return ret(`kind: "checkpoint", label: ${r.label === null ? "null" : JSON.stringify(r.label)}`);
    case "sleep":
      pre(`const ms = ${expr(c, r.duration)} as number;`);
      return ret('kind: "sleep", ms');
    case "suspend":
      pre(`const reason = ${r.reason ? `ops.str(${expr(c, r.reason)})` : "null"};`);
      return ret('kind: "suspend", reason');
    case "wait":
      pre(`const timeoutMs = ${r.timeout ? `${expr(c, r.timeout)} as number` : "null"};`);
      return ret(`kind: "wait", signal: ${JSON.stringify(r.signal)}, timeoutMs`);
    case "await":
      pre(`const job = ${expr(c, r.job)} as string;`);
      return ret('kind: "await", job');
    case "call":
      pre(`const args: Record<string, Json> = ${argsObject(c, r.args.map((a) => a.name), r.args.map((a) => a.value))};`);
      return ret(`kind: "call", runbook: ${JSON.stringify(r.runbook)}, args`);
    case "parallel": {
      // Each branch's arguments: the captured locals as they are now, then its element.
      const e = r.node;
      const captures = e.captures ?? [];
      pre(`const shared: Record<string, Json> = ${argsObject(c, captures.map((n) => n.name), captures)};`);
      if (e.names.length === 1) {
        pre(`const elements = ${iterableCode(c, e.iterable, false)};`);
        pre(`const args = elements.map((x) => ({ ...shared, ${propertyName(e.names[0].name)}: x }));`);
      } else {
        pre(`const pairs = ${iterableCode(c, e.iterable, true)};`);
        pre(`const elements = pairs.map((p) => p[0]);`);
        pre(`const args = pairs.map((p) => ({ ...shared, ${propertyName(e.names[0].name)}: p[0], ${propertyName(e.names[1].name)}: p[1] }));`);
      }
      pre(`const limit = ${e.limit ? `${expr(c, e.limit)} as number` : "null"};`);
      const onError = JSON.stringify(e.onError?.value ?? "stop");
      return ret(`kind: "parallel", runbook: ${JSON.stringify(r.runbook)}, args, elements, limit, onError: ${onError}, line: ${e.span.start.line}, column: ${e.span.start.column}`);
    }
  }
}

