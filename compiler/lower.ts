// Lowering: a checked runbook's body → a flat list of ops with labels (compiler/ir.ts), the way
// TypeScript's generators transform lowers `yield`. Only statements that contain a suspension
// point are split into labels; every other statement stays whole and is emitted as ordinary
// structured TypeScript inside one case (`containsSuspension` decides, computed once up front).
//
// Suspension points: `checkpoint`, `sleep`, `suspend`, `wait`, `await`, a `retry` delay, and an
// inline call of a runbook that can suspend. Each one ends the current `step` call with a
// StepResult; the frame continues at the op's resume label on the next `step`.
//
// The intermediate language (labels are symbolic; compiler/build.ts numbers them into cases):
//
//  .mark L                     - L starts a case. Control may fall into it from the op before.
//  .defaults P..               - (at pc 0) each parameter left out by the caller gets its default.
//  .stmt S                     - S (no suspension inside) as native TypeScript. A break,
//                                continue or return in S that leaves S follows S's exits plan.
//  .br L [via C, F]            - jump to L; when the jump leaves a split try with a finally,
//                                store the completion {type, pc: L} in slot C and go to F.
//  .brfalse (c), L             - jump to L unless the runbook condition c is true.
//  .forInit IT, I, (e)         - IT = snapshot of e's elements (or [key, value] pairs); I = 0.
//  .forNext IT, I, X.., END    - if I is past the end go to END; else X.. = IT[I]; I += 1.
//  .retryInit R, (n, d, f)     - the retry's attempts, delay and backoff slots; attempt = 1.
//  .retryFailed R, AGAIN       - (at the retry's handler) rethrow when attempts are used up;
//                                else attempt += 1 and go to AGAIN, through a durable sleep of
//                                d * f^(attempt-1) when that is more than zero.
//  .suspend REQ, RESUME        - frame.pc = RESUME; return the request (checkpoint, sleep,
//                                suspend, wait, await, call) to the driver.
//  .receive DEST               - (first op of a resume label) take the driver's input: raise
//                                its error here, or store its value in DEST (a let, an
//                                assignment, a return, or nowhere).
//  .endfinally C, NEXT         - resume the completion pending in slot C: normal → NEXT,
//                                throw → rethrow, return/break/continue → onward (possibly
//                                through the next enclosing finally).
//  .end                        - fell off the end of the body: return null.
//
// Protected regions (try and retry) are not ops: they are a static table of labels (ir.ts
// `Region`), so which handler an error goes to is a pure function of the pc (regenerator's
// try-location list). The emitted `catch` consults it.
import type * as ast from "../grammar/ast.js";
import type { CheckedRunbook } from "./checked.js";
import type { Destination, Exits, FinallyHop, JumpPlan, Label, Lowered, Op, Region, Request, ReturnPlan, RetrySlots, Site } from "./ir.js";
import { resolveSlots, type Slots } from "./slots.js";
import { containsSuspension } from "./suspension.js";
import { assertNever } from "../runtime/never.js";

/** A break/continue target or a split finally that jumps may cross, innermost last. */
type Entry =
  | { kind: "loop"; break: Label; continue: Label }
  | { kind: "finally"; hop: FinallyHop; escapes: Set<Label>; returns: boolean };

/** Everything lowering one runbook needs, in one object. */
interface LowerState {
  rb: CheckedRunbook;
  slots: Slots;
  /** Statements that contain a suspension point (the precomputed `containsSuspension`). */
  suspends: Set<ast.Stmt>;
  ops: Op[];
  regions: Region[];
  nextLabel: number;
  entries: Entry[];
  temps: number;
  retries: Map<ast.RetryStmt, RetrySlots>;
}

export interface LoweredRunbook extends Lowered {
  slots: Slots;
  /** The slots of each split retry (its attempt counter is what activities inside it see). */
  retries: Map<ast.RetryStmt, RetrySlots>;
}

/** Lowers one runbook's body (its parameters' defaults are applied by the emitter at pc 0). */
export function lowerRunbook(rb: CheckedRunbook): LoweredRunbook {
  const slots = resolveSlots(rb);
  const state: LowerState = {
    rb,
    slots,
    suspends: containsSuspension(rb),
    ops: [],
    regions: [],
    nextLabel: 1,
    entries: [],
    temps: 0,
    retries: new Map(),
  };
  state.ops.push({ op: "mark", label: 0 });
  const defaults = rb.decl.params.filter((p) => p.default !== undefined);
  if (defaults.length) state.ops.push({ op: "defaults", params: defaults, at: siteOf(defaults[0]) });
  lowerStatements(state, rb.decl.body.statements);
  state.ops.push({ op: "end" });
  return { ops: state.ops, regions: state.regions, slots, retries: state.retries };
}

// ---------------------------------------------------------------------------------------------
// Labels, temporaries, ops

function defineLabel(state: LowerState): Label {
  return state.nextLabel++;
}

function markLabel(state: LowerState, label: Label): void {
  state.ops.push({ op: "mark", label });
}

function emit(state: LowerState, op: Op): void {
  state.ops.push(op);
}

/** A compiler temporary slot: `$<what><n>`, typed for the Locals interface. */
function newTemp(state: LowerState, what: string, ts: string): string {
  const name = `$${what}${++state.temps}`;
  state.slots.all.set(name, { name, kind: "temp", ts });
  return name;
}

function siteOf(node: { span: ast.Span }): Site {
  return { line: node.span.start.line, column: node.span.start.column };
}

/** Pushes an entry for the duration of `fn`, then pops it, asserting the pop (leap.js style). */
function withEntry<T extends Entry>(state: LowerState, entry: T, fn: () => void): T {
  state.entries.push(entry);
  fn();
  const popped = state.entries.pop();
  if (popped !== entry) throw new Error("lowering: entry stack out of balance");
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Jump planning: break/continue/return through the split finallies they cross

/** The plan for jumping to `target` from here: the innermost crossed finally, if any. */
function planJumpTo(state: LowerState, target: Label): JumpPlan {
  let via: FinallyHop | undefined;
  for (let i = state.entries.length - 1; i >= 0; i--) {
    const e = state.entries[i];
    if (e.kind === "loop") {
      if (e.break === target || e.continue === target) return { target, via };
      continue;
    }
    e.escapes.add(target);
    via ??= e.hop;
  }
  throw new Error(`lowering: jump target ${target} is not in scope`);
}

function planBreakOrContinue(state: LowerState, which: "break" | "continue"): JumpPlan | undefined {
  for (let i = state.entries.length - 1; i >= 0; i--) {
    const e = state.entries[i];
    if (e.kind === "loop") return planJumpTo(state, e[which]);
  }
  return undefined; // no split loop encloses it: the checker allows break only inside loops
}

function planReturn(state: LowerState): ReturnPlan {
  let via: FinallyHop | undefined;
  for (let i = state.entries.length - 1; i >= 0; i--) {
    const e = state.entries[i];
    if (e.kind !== "finally") continue;
    e.returns = true;
    via ??= e.hop;
  }
  return { via };
}

/** The exits of a native statement: plans only for the kinds of jump that leave it. */
function exitsOf(state: LowerState, s: ast.Stmt): Exits {
  const leaves = leavingJumps(s);
  return {
    break: leaves.break ? planBreakOrContinue(state, "break") : undefined,
    continue: leaves.continue ? planBreakOrContinue(state, "continue") : undefined,
    return: leaves.return ? planReturn(state) : {},
  };
}

/** Which of break/continue (outside any loop inside `s`) and return occur in `s`. */
export function leavingJumps(s: ast.Stmt): { break: boolean; continue: boolean; return: boolean } {
  const found = { break: false, continue: false, return: false };
  const visit = (st: ast.Stmt, inLoop: boolean): void => {
    switch (st.kind) {
      case "Break":
        if (!inLoop) found.break = true;
        return;
      case "Continue":
        if (!inLoop) found.continue = true;
        return;
      case "Return":
        found.return = true;
        return;
      case "If":
        st.then.statements.forEach((x) => visit(x, inLoop));
        if (st.otherwise?.kind === "If") visit(st.otherwise, inLoop);
        else st.otherwise?.statements.forEach((x) => visit(x, inLoop));
        return;
      case "While":
      case "For":
        st.body.statements.forEach((x) => visit(x, true));
        return;
      case "Try":
        st.block.statements.forEach((x) => visit(x, inLoop));
        st.handler?.body.statements.forEach((x) => visit(x, inLoop));
        st.finalizer?.statements.forEach((x) => visit(x, inLoop));
        return;
      case "Retry":
        st.body.statements.forEach((x) => visit(x, inLoop));
        return;
      case "Let":
      case "Assign":
      case "Checkpoint":
      case "Sleep":
      case "Suspend":
      case "Stream":
      case "Fail":
      case "ExprStmt":
        return;
      default:
        return assertNever(st, "statement");
    }
  };
  visit(s, false);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Statements

function lowerStatements(state: LowerState, statements: ast.Stmt[]): void {
  for (const s of statements) lowerStatement(state, s);
}

function lowerStatement(state: LowerState, s: ast.Stmt): void {
  if (!state.suspends.has(s)) {
    emit(state, { op: "stmt", stmt: s, exits: exitsOf(state, s), at: siteOf(s) });
    return;
  }
  switch (s.kind) {
    case "Checkpoint":
      return lowerSuspend(state, s, { kind: "checkpoint", label: s.label?.value ?? null }, { kind: "discard" });
    case "Sleep":
      return lowerSuspend(state, s, { kind: "sleep", duration: s.duration }, { kind: "discard" });
    case "Suspend":
      return lowerSuspend(state, s, { kind: "suspend", reason: s.reason }, { kind: "discard" });
    case "Let":
      return lowerSuspend(state, s, requestOf(state, s.value), { kind: "let", slot: state.slots.binders.get(s.name)! });
    case "Assign":
      return lowerSuspend(state, s, requestOf(state, s.value), { kind: "assign", stmt: s });
    case "ExprStmt":
      return lowerSuspend(state, s, requestOf(state, s.expression), { kind: "discard" });
    case "Return":
      return lowerSuspend(state, s, requestOf(state, s.value!), { kind: "return", plan: planReturn(state) });
    case "If":
      return lowerIf(state, s);
    case "While":
      return lowerWhile(state, s);
    case "For":
      return lowerFor(state, s);
    case "Try":
      return lowerTry(state, s);
    case "Retry":
      return lowerRetry(state, s);
    case "Break":
    case "Continue":
    case "Stream":
    case "Fail":
      throw new Error(`lowering: a ${s.kind} statement cannot contain a suspension point`);
    default:
      return assertNever(s, "statement");
  }
}

/** What a suspending value (wait, await, inline call of a runbook that can suspend) asks for. */
function requestOf(state: LowerState, e: ast.Expr): Request {
  switch (e.kind) {
    case "Wait":
      return { kind: "wait", signal: e.signal.value, timeout: e.timeout };
    case "Await":
      return { kind: "await", job: e.job };
    case "Parallel":
      if (!e.branch) break;
      return { kind: "parallel", runbook: e.branch, node: e };
    case "Call": {
      const r = state.rb.calls.get(e);
      if (r?.kind !== "runbook") break;
      const args: { name: string; value: ast.Expr }[] = [];
      r.paramNames.forEach((name, i) => {
        const value = r.args[i];
        if (value) args.push({ name, value });
      });
      return { kind: "call", runbook: r.callee, args };
    }
    case "Number":
    case "String":
    case "Template":
    case "Bool":
    case "Null":
    case "Duration":
    case "List":
    case "Map":
    case "Name":
    case "Member":
    case "Index":
    case "Unary":
    case "Binary":
    case "Start":
    case "ErrorExpr":
      break;
    default:
      return assertNever(e, "expression");
  }
  throw new Error(`lowering: a ${e.kind} expression does not suspend`);
}

// [source]
//   checkpoint "x"            |  let v = wait "go" timeout 1h    |  return f(a)
// [intermediate]
//   .suspend checkpoint, L1   |  .suspend wait "go" 1h, L1       |  .suspend call f {a}, L1
//   .mark L1                  |  .mark L1                        |  .mark L1
//                             |  .receive let v                  |  .receive return
function lowerSuspend(state: LowerState, s: ast.Stmt, request: Request, into: Destination): void {
  const resume = defineLabel(state);
  emit(state, { op: "suspend", request, resume, at: siteOf(s) });
  markLabel(state, resume);
  // A checkpoint, sleep or suspend receives nothing; everything else may receive an error.
  if (request.kind === "checkpoint" || request.kind === "sleep" || request.kind === "suspend") return;
  emit(state, { op: "receive", into, at: siteOf(s) });
}

// [source]
//   if (c) { THEN } else { ELSE }
// [intermediate]
//   .brfalse (c), ELSE
//     THEN
//     .br END
//   .mark ELSE
//     ELSE
//   .mark END
function lowerIf(state: LowerState, s: ast.IfStmt): void {
  const otherwise = defineLabel(state);
  const end = s.otherwise ? defineLabel(state) : otherwise;
  emit(state, { op: "brfalse", cond: s.condition, target: otherwise, at: siteOf(s) });
  lowerStatements(state, s.then.statements);
  if (s.otherwise) {
    emit(state, { op: "br", plan: { target: end }, record: "normal", at: siteOf(s) });
    markLabel(state, otherwise);
    if (s.otherwise.kind === "If") lowerStatement(state, s.otherwise);
    else lowerStatements(state, s.otherwise.statements);
  }
  markLabel(state, end);
}

// [source]
//   while (c) { BODY }
// [intermediate]
//   .mark CONTINUE
//     .brfalse (c), BREAK
//     BODY
//     .br CONTINUE
//   .mark BREAK
function lowerWhile(state: LowerState, s: ast.WhileStmt): void {
  const loop = { kind: "loop" as const, break: defineLabel(state), continue: defineLabel(state) };
  markLabel(state, loop.continue);
  emit(state, { op: "brfalse", cond: s.condition, target: loop.break, at: siteOf(s) });
  withEntry(state, loop, () => lowerStatements(state, s.body.statements));
  emit(state, { op: "br", plan: { target: loop.continue }, record: "normal", at: siteOf(s) });
  markLabel(state, loop.break);
}

// [source]
//   for k, v in (e) { BODY }
// [intermediate]
//     .forInit $it, $i, (e)          // the snapshot lives in a slot: it survives suspension
//   .mark CONTINUE
//     .forNext $it, $i, k, v, BREAK
//     BODY
//     .br CONTINUE
//   .mark BREAK
function lowerFor(state: LowerState, s: ast.ForStmt): void {
  const pairs = s.names.length === 2;
  const iter = newTemp(state, "it", pairs ? "[Json, Json][]" : "Json[]");
  const index = newTemp(state, "i", "number");
  const loop = { kind: "loop" as const, break: defineLabel(state), continue: defineLabel(state) };
  emit(state, { op: "forInit", iter, index, iterable: s.iterable, pairs, at: siteOf(s) });
  markLabel(state, loop.continue);
  const names = s.names.map((id) => state.slots.binders.get(id)!);
  emit(state, { op: "forNext", iter, index, names, end: loop.break, at: siteOf(s) });
  withEntry(state, loop, () => lowerStatements(state, s.body.statements));
  emit(state, { op: "br", plan: { target: loop.continue }, record: "normal", at: siteOf(s) });
  markLabel(state, loop.break);
}

// [source]
//   try { BODY } catch err { HANDLER } finally { FINALLY }
// [intermediate]
//   .mark START                      // region: START, HANDLER, FINALLY, END
//     BODY
//     .br END via $c, FINALLY        // completion {type: "normal"}
//   .mark HANDLER                    // the catch dispatcher stored the error in `err`
//     HANDLER
//     .br END via $c, FINALLY
//   .mark FINALLY                    // the dispatcher stores {type: "throw", error} in $c
//     FINALLY
//     .endfinally $c, END
//   .mark END
function lowerTry(state: LowerState, s: ast.TryStmt): void {
  const start = defineLabel(state);
  const handler = s.handler ? defineLabel(state) : undefined;
  const fin = s.finalizer ? defineLabel(state) : undefined;
  const end = defineLabel(state);
  const completion = fin !== undefined ? newTemp(state, "c", "Completion") : undefined;
  const region: Region = {
    start,
    handler,
    binding: s.handler ? state.slots.binders.get(s.handler.param) : undefined,
    finally: fin,
    completion,
    end,
  };
  const hop: FinallyHop | undefined = fin !== undefined ? { completion: completion!, finally: fin } : undefined;
  const entry = hop ? { kind: "finally" as const, hop, escapes: new Set<Label>(), returns: false } : undefined;
  const guarded = (fn: () => void): void => (entry ? void withEntry(state, entry, fn) : fn());
  const leave = (): void => emit(state, { op: "br", plan: { target: end, via: hop }, record: "normal", at: siteOf(s) });

  markLabel(state, start);
  guarded(() => lowerStatements(state, s.block.statements));
  leave();
  if (s.handler && handler !== undefined) {
    markLabel(state, handler);
    guarded(() => lowerStatements(state, s.handler!.body.statements));
    leave();
  }
  if (s.finalizer && fin !== undefined && entry) {
    markLabel(state, fin);
    lowerStatements(state, s.finalizer.statements);
    // Onward plans are made here, outside the try: the next finally out, or the target itself.
    const jumps = [...entry.escapes].sort((a, b) => a - b).map((target) => ({ target, plan: planJumpTo(state, target) }));
    const ret = entry.returns ? planReturn(state) : undefined;
    emit(state, { op: "endFinally", completion: completion!, next: end, exits: { jumps, return: ret }, at: siteOf(s.finalizer) });
  }
  markLabel(state, end);
  state.regions.push(region);
}

// [source]
//   retry (attempts: n, delay: d, backoff: f) { BODY }
// [intermediate]
//     .retryInit R, (n), (d), (f)        // R.attempt = 1
//   .mark AGAIN                          // region: AGAIN, HANDLER, -, END
//     BODY
//     .br END
//   .mark HANDLER                        // the dispatcher stored the error in R.error
//     .retryFailed R, AGAIN              // rethrow, or attempt += 1 and (sleep →) AGAIN
//   .mark END
function lowerRetry(state: LowerState, s: ast.RetryStmt): void {
  const retry: RetrySlots = {
    attempts: newTemp(state, "attempts", "number"),
    delay: newTemp(state, "delay", "number"),
    backoff: newTemp(state, "backoff", "number"),
    attempt: newTemp(state, "attempt", "number"),
    error: newTemp(state, "error", "Json"),
  };
  state.retries.set(s, retry);
  const again = defineLabel(state);
  const handler = defineLabel(state);
  const end = defineLabel(state);
  emit(state, { op: "retryInit", retry, attempts: s.attempts, delay: s.delay, backoff: s.backoff, at: siteOf(s) });
  markLabel(state, again);
  lowerStatements(state, s.body.statements);
  emit(state, { op: "br", plan: { target: end }, record: "normal", at: siteOf(s) });
  markLabel(state, handler);
  emit(state, { op: "retryFailed", retry, again, at: siteOf(s) });
  markLabel(state, end);
  state.regions.push({ start: again, handler, binding: retry.error, finally: undefined, completion: undefined, end });
}
