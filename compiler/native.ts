// Runbook expressions and whole statements (the ones without a suspension point) as ordinary
// structured TypeScript, for the inside of one case of the state machine.
//
// Names the emitted code relies on (declared by compiler/emit.ts in `step`):
//   L       frame.locals, typed as the module's `Locals` (every runbook value lives there)
//   ops     ctx.ops: operators and built-ins that check their operands at run time
//   ctx     the StepContext: emit, activity, call, start (an activity call inside a retry body
//           also passes that retry's attempt number, so the activity's ctx.attempt counts tries)
//   NAME, FILE    the runbook's name and `.runbook` file (for error records)
// Positions: every helper or call that can fail gets the `.runbook` position of its expression
// as its last two arguments (`at`), and the error it raises carries it from there.
//   dispatch      the label of the dispatch loop (`continue dispatch` re-enters the switch)
//   $budget       loop passes left before the next `ctx.tick()` (a cooperative yield point)
// Values are never mutated in place: `x.f[i] = v` rebuilds the path with ops.setPath, so no
// aliasing between locals is ever observable (a checkpoint round trip would break it).
import type { CodeBlockWriter } from "ts-morph";
import type * as ast from "../grammar/ast.js";
import type { CheckedRunbook } from "./checked.js";
import type { Exits, JumpPlan, Label, ReturnPlan } from "./ir.js";
import { targetRoot } from "./liveness.js";
import type { Slots } from "./slots.js";
import { propertyName } from "./tstype.js";
import { TICK_EVERY } from "../runtime/abi.js";
import { assertNever } from "../runtime/never.js";

export interface CodeContext {
  rb: CheckedRunbook;
  slots: Slots;
  pcOf(label: Label): number;
  /** Counter for JS-only temporaries of native code (loop variables, paths). */
  jsTemps: number;
  /** The innermost retry whose body encloses each activity call (compiler/retry-scope.ts). */
  retryOf: Map<ast.CallExpr, ast.RetryStmt>;
  /**
   * Each retry's attempt number as code: `L.$attemptN` for a split retry (its durable slot,
   * known up front), the loop variable `$aN` for a native one (added as its loop is written).
   */
  attempts: Map<ast.RetryStmt, string>;
}

/** Native loops enclosing the statement being written, innermost last (their JS labels). */
type LoopStack = string[];

// ---------------------------------------------------------------------------------------------
// Expressions

const BINARY_OPS: Partial<Record<ast.BinaryOperator, string>> = {
  "+": "add",
  "-": "sub",
  "*": "mul",
  "/": "div",
  "%": "mod",
  "<": "lt",
  "<=": "le",
  ">": "gt",
  ">=": "ge",
  "..": "range",
};

export function expr(c: CodeContext, e: ast.Expr): string {
  switch (e.kind) {
    case "Number":
      return numberText(e.value);
    case "String":
      return JSON.stringify(e.value);
    case "Template":
      return `(${e.parts.map((p) => (typeof p === "string" ? JSON.stringify(p) : `ops.str(${expr(c, p)})`)).join(" + ")})`;
    case "Bool":
      return e.value ? "true" : "false";
    case "Null":
      return "null";
    case "Duration":
      return numberText(e.milliseconds);
    case "List":
      return `[${e.elements.map((x) => expr(c, x)).join(", ")}]`;
    case "Map":
      if (e.entries.length === 0) return "{}";
      return `{ ${e.entries.map((x) => `${mapKey(x.key)}: ${expr(c, x.value)}`).join(", ")} }`;
    case "Name":
      return `L.${slotOf(c, e)}`;
    case "Member":
      return `ops.${e.optional ? "optMember" : "member"}(${expr(c, e.object)}, ${JSON.stringify(e.property.name)}, ${at(e)})`;
    case "Index":
      return `ops.index(${expr(c, e.object)}, ${expr(c, e.index)}, ${at(e)})`;
    case "Call":
      return callExpr(c, e);
    case "Unary":
      if (e.operator === "not") return `!${condition(c, e.operand)}`;
      if (e.operand.kind === "Number") return numberText(-e.operand.value);
      if (e.operand.kind === "Duration") return numberText(-e.operand.milliseconds);
      return `ops.neg(${expr(c, e.operand)}, ${at(e)})`;
    case "Binary":
      return binaryExpr(c, e);
    case "Start": {
      const r = c.rb.calls.get(e.call);
      if (r?.kind !== "runbook") throw new Error("emit: start needs a runbook call");
      return `(await ctx.start(${JSON.stringify(r.callee)}, ${argsObject(c, r.paramNames, r.args)}, ${at(e)}))`;
    }
    case "Wait":
    case "Await":
    case "Parallel":
    case "ErrorExpr":
      throw new Error(`emit: a ${e.kind} expression cannot stand here`);
    default:
      return assertNever(e, "expression");
  }
}

/**
 * The `.runbook` position of an expression that can fail, as the last two arguments of its
 * helper or call (`line, column`): the error gets it where it is raised (runtime/abi.ts).
 */
export function at(node: { span: ast.Span }): string {
  return `${node.span.start.line}, ${node.span.start.column}`;
}

function numberText(n: number): string {
  const text = Object.is(n, -0) ? "0" : String(n);
  return n < 0 ? `(${text})` : text;
}

/** A map literal key: quoted, and `__proto__` computed so it stays an own property. */
function mapKey(key: string): string {
  return key === "__proto__" ? `["__proto__"]` : JSON.stringify(key);
}

function slotOf(c: CodeContext, e: ast.NameExpr): string {
  const slot = c.slots.refs.get(e);
  if (slot === undefined) throw new Error(`emit: ${e.name} does not name a local`);
  return slot;
}

function binaryExpr(c: CodeContext, e: ast.BinaryExpr): string {
  const a = expr(c, e.left);
  const b = expr(c, e.right);
  switch (e.operator) {
    case "??":
      return `(${a} ?? ${b})`;
    case "and":
      return `(${condition(c, e.left)} && ${condition(c, e.right)})`;
    case "or":
      return `(${condition(c, e.left)} || ${condition(c, e.right)})`;
    case "==":
      return `ops.eq(${a}, ${b})`;
    case "!=":
      return `!ops.eq(${a}, ${b})`;
    default:
      return `ops.${BINARY_OPS[e.operator]}(${a}, ${b}, ${at(e)})`;
  }
}

function callExpr(c: CodeContext, e: ast.CallExpr): string {
  const r = c.rb.calls.get(e);
  if (!r) throw new Error("emit: a call without a resolution");
  switch (r.kind) {
    case "builtin":
      return `ops.builtin(${JSON.stringify(r.fn)}, [${r.args.map((a) => expr(c, a)).join(", ")}], ${at(e)})`;
    case "activity": {
      const head = `ctx.activity(${JSON.stringify(r.module)}, ${JSON.stringify(r.fn)}, ${argsObject(c, r.paramNames, r.args)}`;
      const retry = c.retryOf.get(e);
      if (!retry) return `(await ${head}, 1, ${at(e)}))`;
      const attempt = c.attempts.get(retry);
      if (attempt === undefined) throw new Error("emit: an activity call inside a retry whose attempt counter is not written yet");
      return `(await ${head}, ${attempt}, ${at(e)}))`;
    }
    case "runbook":
      if (r.canSuspend) throw new Error(`emit: the call of ${r.callee} can suspend and cannot stand inside an expression`);
      return `(await ctx.call(${JSON.stringify(r.callee)}, ${argsObject(c, r.paramNames, r.args)}, ${at(e)}))`;
  }
}

/** Arguments by parameter name, in parameter order; left-out arguments are left out. */
export function argsObject(c: CodeContext, names: string[], args: (ast.Expr | undefined)[]): string {
  const parts: string[] = [];
  names.forEach((n, i) => {
    const a = args[i];
    if (a) parts.push(`${propertyName(n)}: ${expr(c, a)}`);
  });
  return parts.length ? `{ ${parts.join(", ")} }` : "{}";
}

/**
 * `code` converted to the slot's TypeScript type: helpers return `Json`, so most values need a
 * cast; literals and operators whose emitted type is already the slot's do not.
 */
export function cast(c: CodeContext, slot: string, code: string, source?: ast.Expr): string {
  const ts = c.slots.all.get(slot)?.ts ?? "Json";
  if (ts === "Json" || (source && emittedType(source) === ts)) return code;
  return `${code} as ${ts}`;
}

/** The TypeScript type of an expression's emitted code, when it is evident from its form. */
function emittedType(e: ast.Expr): string | undefined {
  switch (e.kind) {
    case "String":
    case "Template":
      return "string";
    case "Number":
    case "Duration":
      return "number";
    case "Bool":
      return "boolean";
    case "Unary":
      return e.operator === "not" ? "boolean" : e.operand.kind === "Number" || e.operand.kind === "Duration" ? "number" : undefined;
    case "Binary":
      return ["and", "or", "==", "!=", "<", "<=", ">", ">="].includes(e.operator) ? "boolean" : undefined;
    case "List":
    case "Map":
    case "Null":
    case "Name":
    case "Member":
    case "Index":
    case "Call":
    case "Wait":
    case "Start":
    case "Await":
    case "Parallel":
    case "ErrorExpr":
      return undefined;
    default:
      return assertNever(e, "expression");
  }
}

/** A runbook condition as a JS boolean: operators that yield booleans need no check. */
export function condition(c: CodeContext, e: ast.Expr): string {
  // A literal stays opaque to TypeScript: it takes `if (true) { ... continue dispatch; }` as a
  // constant and the code after it as unreachable, where it narrows nothing (an endFinally's
  // `completion.error` would then not typecheck under --strict).
  if (e.kind === "Bool") return `(${e.value} as boolean)`;
  const code = expr(c, e);
  return emittedType(e) === "boolean" ? code : `ops.bool(${code}, ${at(e)})`;
}

// ---------------------------------------------------------------------------------------------
// Jumps out of native code

export function writeJump(w: CodeBlockWriter, c: CodeContext, plan: JumpPlan, record: "normal" | "break" | "continue"): void {
  if (plan.via) {
    const rec = record === "normal" ? `{ type: "normal" }` : `{ type: "${record}", pc: ${c.pcOf(plan.target)} }`;
    w.writeLine(`L.${plan.via.completion} = ${rec};`);
    w.writeLine(`frame.pc = ${c.pcOf(plan.via.finally)};`);
  } else {
    w.writeLine(`frame.pc = ${c.pcOf(plan.target)};`);
  }
  w.writeLine("continue dispatch;");
}

export function writeReturn(w: CodeBlockWriter, c: CodeContext, plan: ReturnPlan, value: string): void {
  if (plan.via) {
    w.writeLine(`L.${plan.via.completion} = { type: "return", value: ${value} };`);
    w.writeLine(`frame.pc = ${c.pcOf(plan.via.finally)};`);
    w.writeLine("continue dispatch;");
  } else {
    w.writeLine(`return { kind: "return", value: ${value} };`);
  }
}

// ---------------------------------------------------------------------------------------------
// Statements

/**
 * The cooperative yield point at the top of each pass of a loop that runs inside one step: a
 * decrement and a compare per pass, and every TICK_EVERY passes `ctx.tick()`, which lets the
 * process breathe and ends the step if the job must stop (runtime/abi.ts). `node`: the loop,
 * whose position a "no suspension point reached" error carries; left out, the frame's pc's.
 */
export function writeTick(w: CodeBlockWriter, node?: { span: ast.Span }): void {
  const at = node ? `${node.span.start.line}, ${node.span.start.column}` : "";
  w.writeLine(`if (--$budget === 0) { $budget = ${TICK_EVERY}; await ctx.tick(${at}); }`);
}

/** A statement without suspension points, emitted whole. */
export function writeStatement(w: CodeBlockWriter, c: CodeContext, s: ast.Stmt, exits: Exits, loops: LoopStack = []): void {
  const block = (b: ast.Block, inner: LoopStack = loops): void => {
    for (const x of b.statements) writeStatement(w, c, x, exits, inner);
  };
  switch (s.kind) {
    case "Let": {
      const slot = c.slots.binders.get(s.name)!;
      w.writeLine(`L.${slot} = ${cast(c, slot, expr(c, s.value), s.value)};`);
      return;
    }
    case "Assign":
      writeAssign(w, c, s, expr(c, s.value));
      return;
    case "If": {
      w.write(`if (${condition(c, s.condition)}) `).inlineBlock(() => block(s.then));
      const other = s.otherwise;
      if (other) w.write(" else ").inlineBlock(() => (other.kind === "Block" ? block(other) : writeStatement(w, c, other, exits, loops)));
      w.newLine();
      return;
    }
    case "While": {
      const label = `l${++c.jsTemps}`;
      w.write(`${label}: for (;;) `).block(() => {
        writeTick(w, s);
        w.writeLine(`if (!${condition(c, s.condition)}) break;`);
        block(s.body, [...loops, label]);
      });
      return;
    }
    case "For": {
      const n = ++c.jsTemps;
      const label = `l${n}`;
      const slots = s.names.map((id) => c.slots.binders.get(id)!);
      const source = iterableCode(c, s.iterable, s.names.length === 2);
      if (slots.length === 2) {
        w.write(`${label}: for (const [$k${n}, $v${n}] of ${source}) `).block(() => {
          writeTick(w, s);
          w.writeLine(`L.${slots[0]} = ${cast(c, slots[0], `$k${n}`)};`);
          w.writeLine(`L.${slots[1]} = ${cast(c, slots[1], `$v${n}`)};`);
          block(s.body, [...loops, label]);
        });
      } else {
        w.write(`${label}: for (const $v${n} of ${source}) `).block(() => {
          writeTick(w, s);
          w.writeLine(`L.${slots[0]} = ${cast(c, slots[0], `$v${n}`)};`);
          block(s.body, [...loops, label]);
        });
      }
      return;
    }
    case "Break":
    case "Continue": {
      const which = s.kind === "Break" ? "break" : "continue";
      if (loops.length) {
        w.writeLine(`${which} ${loops[loops.length - 1]};`);
        return;
      }
      const plan = exits[which];
      if (!plan) throw new Error(`emit: ${which} outside a loop`);
      writeJump(w, c, plan, which);
      return;
    }
    case "Return":
      writeReturn(w, c, exits.return, s.value ? expr(c, s.value) : "null");
      return;
    case "Stream":
      w.writeLine(`ctx.emit(${JSON.stringify(s.stream)}, ${expr(c, s.value)});`);
      return;
    case "Fail":
      w.writeLine(`ops.fail(${expr(c, s.message)}, ${at(s)});`);
      return;
    case "Try": {
      const n = ++c.jsTemps;
      w.write("try ").inlineBlock(() => block(s.block));
      if (s.handler) {
        const h = s.handler;
        const slot = c.slots.binders.get(h.param)!;
        w.write(` catch ($e${n}) `).inlineBlock(() => {
          // An error without a position of its own (not raised by runbook code) is placed at the try.
          w.writeLine(`L.${slot} = { ...ops.fault($e${n}, NAME, FILE, ${at(s)}) };`);
          block(h.body);
        });
      }
      if (s.finalizer) w.write(" finally ").inlineBlock(() => block(s.finalizer!));
      w.newLine();
      return;
    }
    case "Retry": {
      // No delay and no suspension inside: a plain loop. The JS loop is not a runbook loop, so
      // break/continue inside target the enclosing runbook loop by its JS label.
      const n = ++c.jsTemps;
      w.write("").block(() => {
        w.writeLine(`const $n${n} = ${s.attempts ? `${expr(c, s.attempts)} as number` : "3"};`);
        c.attempts.set(s, `$a${n}`);
        w.write(`for (let $a${n} = 1; ; $a${n}++) `).block(() => {
          writeTick(w, s);
          w.write("try ").inlineBlock(() => {
            block(s.body);
            w.writeLine("break;");
          });
          w.write(` catch ($e${n}) `).inlineBlock(() => {
            w.writeLine(`const error = ops.fault($e${n}, NAME, FILE, ${at(s)});`);
            w.writeLine(`if ($a${n} >= $n${n}) throw error;`);
          });
          w.newLine();
        });
      });
      return;
    }
    case "ExprStmt":
      w.writeLine(`${expr(c, s.expression)};`);
      return;
    case "Checkpoint":
    case "Sleep":
    case "Suspend":
      throw new Error(`emit: ${s.kind} is a suspension point and cannot be emitted whole`);
    default:
      return assertNever(s, "statement");
  }
}

/** The list a `for` walks: a range directly, else a snapshot of the elements or entries. */
export function iterableCode(c: CodeContext, e: ast.Expr, pairs: boolean): string {
  if (!pairs && e.kind === "Binary" && e.operator === "..") return `ops.range(${expr(c, e.left)}, ${expr(c, e.right)}, ${at(e)})`;
  return `ops.${pairs ? "entries" : "iter"}(${expr(c, e)}, ${at(e)})`;
}

/** `target op value` as a persistent update of the target's root local. */
export function writeAssign(w: CodeBlockWriter, c: CodeContext, s: ast.AssignStmt, value: string): void {
  const root = targetRoot(s.target);
  const slot = slotOf(c, root);
  const helper = s.operator === "+=" ? "add" : s.operator === "-=" ? "sub" : undefined;
  if (s.target.kind === "Name") {
    const v = helper ? `ops.${helper}(L.${slot}, ${value}, ${at(s)})` : value;
    w.writeLine(`L.${slot} = ${cast(c, slot, v)};`);
    return;
  }
  const path: string[] = [];
  for (let t: ast.Expr = s.target; t !== root; t = (t as ast.MemberExpr | ast.IndexExpr).object) {
    path.unshift(t.kind === "Member" ? JSON.stringify(t.property.name) : expr(c, (t as ast.IndexExpr).index));
  }
  if (!helper) {
    w.writeLine(`L.${slot} = ${cast(c, slot, `ops.setPath(L.${slot}, [${path.join(", ")}], ${value}, ${at(s)})`)};`);
    return;
  }
  // The path's index expressions are evaluated once, for the read and for the write.
  const p = `$p${++c.jsTemps}`;
  w.write("").block(() => {
    w.writeLine(`const ${p}: Json[] = [${path.join(", ")}];`);
    const current = path.reduce((acc, _, i) => `ops.index(${acc}, ${p}[${i}], ${at(s)})`, `L.${slot}`);
    w.writeLine(`L.${slot} = ${cast(c, slot, `ops.setPath(L.${slot}, ${p}, ops.${helper}(${current}, ${value}, ${at(s)}), ${at(s)})`)};`);
  });
}
