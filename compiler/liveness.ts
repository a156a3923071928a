// Liveness: which slots (locals, parameters, temporaries) may still be read after each
// suspension point. Only those are saved with a checkpoint (runtime/abi.ts `live`); the driver
// drops every other local, so a value computed and used between two checkpoints never reaches
// the database.
//
// Classic backward dataflow over the op list: live-in(op) = use(op) ∪ (live-out(op) − def(op)),
// iterated to a fixed point (loops). Three things need care:
// - Errors: any op inside a protected region may throw, at any moment, before its defs happen,
//   so the live-in of the region's handler (minus the slot the dispatcher writes the error or
//   completion record into) is added to the op's live-in without kills.
// - Native statements (emitted whole) are summarized by upward-exposed uses (`gen`) and
//   definite definitions (`kill`) computed from their AST; a break, continue or return that
//   leaves one adds its target's live-in without kills.
// - `.endfinally` continues to its normal successor, to every jump target routed through it,
//   and through the next finally out; all those are successors.
// The result is keyed by resume pc: what `frame.pc` holds while the frame is suspended.
import type * as ast from "../grammar/ast.js";
import { childExprs } from "./ast-walk.js";
import type { Built } from "./build.js";
import type { Exits, JumpPlan, Label, Lowered, Op, ReturnPlan } from "./ir.js";
import type { Slots } from "./slots.js";
import { assertNever } from "../runtime/never.js";

interface Node {
  op: Op;
  use: Set<string>;
  def: Set<string>;
  /** Successors along normal flow (op indices). */
  succ: number[];
  /** Successors whose live-in is added without this op's kills (minus a slot the jump writes). */
  exposed: { index: number; minus: string | null }[];
  /** Exceptional edge: the handler's op index and the slot the dispatcher defines there. */
  handler: { index: number; defines: string | null } | undefined;
}

/** Live slots at each suspension's resume pc, sorted by name. */
export function computeLiveness(lowered: Lowered, built: Built, slots: Slots): Record<number, string[]> {
  const ops = lowered.ops;
  const labelIndex = new Map<Label, number>();
  ops.forEach((op, i) => {
    if (op.op === "mark") labelIndex.set(op.label, i);
  });
  const at = (l: Label): number => labelIndex.get(l)!;
  const reads = (e: ast.Expr | undefined, into: Set<string>): Set<string> => exprReads(e, slots, into);

  const nodes: Node[] = ops.map((op, i) => {
    const n: Node = { op, use: new Set(), def: new Set(), succ: [], exposed: [], handler: undefined };
    const next = i + 1 < ops.length ? [i + 1] : [];
    const viaPlan = (plan: JumpPlan): void => {
      if (plan.via) n.exposed.push({ index: at(plan.via.finally), minus: plan.via.completion });
      else n.exposed.push({ index: at(plan.target), minus: null });
    };
    const viaReturn = (plan: ReturnPlan): void => {
      if (plan.via) n.exposed.push({ index: at(plan.via.finally), minus: plan.via.completion });
    };
    switch (op.op) {
      case "mark":
        n.succ = next;
        break;
      case "defaults":
        for (const p of op.params) reads(p.default, n.use);
        n.succ = next;
        break;
      case "stmt": {
        const effect = stmtEffect(op.stmt, slots);
        n.use = effect.gen;
        n.def = effect.kill;
        n.succ = next;
        addExits(op.exits, viaPlan, viaReturn);
        break;
      }
      case "br":
        if (op.plan.via) {
          n.def.add(op.plan.via.completion);
          n.succ = [at(op.plan.via.finally)];
        } else n.succ = [at(op.plan.target)];
        break;
      case "brfalse":
        reads(op.cond, n.use);
        n.succ = [...next, at(op.target)];
        break;
      case "forInit":
        reads(op.iterable, n.use);
        n.def = new Set([op.iter, op.index]);
        n.succ = next;
        break;
      case "forNext":
        n.use = new Set([op.iter, op.index]);
        n.def = new Set([...op.names, op.index]);
        n.succ = [...next];
        n.exposed.push({ index: at(op.end), minus: null }); // the loop's end is reached without the element defs
        break;
      case "retryInit":
        reads(op.attempts, n.use);
        reads(op.delay, n.use);
        reads(op.backoff, n.use);
        n.def = new Set([op.retry.attempts, op.retry.delay, op.retry.backoff, op.retry.attempt]);
        n.succ = next;
        break;
      case "retryFailed": {
        const r = op.retry;
        n.use = new Set([r.attempts, r.delay, r.backoff, r.attempt, r.error]);
        n.succ = [at(op.again)];
        break;
      }
      case "suspend":
        requestReads(op, reads, n.use);
        n.succ = [at(op.resume)];
        break;
      case "receive": {
        const into = op.into;
        if (into.kind === "let") n.def.add(into.slot);
        else if (into.kind === "assign") assignEffect(into.stmt, slots, n.use, n.def, false);
        else if (into.kind === "return") {
          if (into.plan.via) {
            n.def.add(into.plan.via.completion);
            n.succ = [at(into.plan.via.finally)];
          }
          break;
        }
        n.succ = next;
        break;
      }
      case "endFinally":
        n.use.add(op.completion);
        n.succ = [at(op.next)];
        for (const j of op.exits.jumps) viaPlan(j.plan);
        if (op.exits.return) viaReturn(op.exits.return);
        break;
      case "end":
        break;
    }
    return n;
  });

  assignHandlers(nodes, lowered, at);

  // Backward fixed point. Ops are mostly forward-flowing, so sweeping from the end converges
  // in a few passes even with loops.
  const liveIn: Set<string>[] = nodes.map(() => new Set());
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      const out = new Set<string>();
      for (const s of n.succ) for (const x of liveIn[s]) out.add(x);
      const inn = new Set(n.use);
      for (const x of out) if (!n.def.has(x)) inn.add(x);
      for (const e of n.exposed) for (const x of liveIn[e.index]) if (x !== e.minus) inn.add(x);
      if (n.handler) for (const x of liveIn[n.handler.index]) if (x !== n.handler.defines) inn.add(x);
      if (inn.size !== liveIn[i].size) {
        liveIn[i] = inn;
        changed = true;
      }
    }
  }

  const live: Record<number, string[]> = {};
  for (const op of ops) {
    const resume = op.op === "suspend" ? op.resume : op.op === "retryFailed" ? op.again : undefined;
    if (resume === undefined) continue;
    live[built.pcs.get(resume)!] = [...liveIn[at(resume)]].sort();
  }
  return live;
}

function addExits(exits: Exits, jump: (p: JumpPlan) => void, ret: (p: ReturnPlan) => void): void {
  if (exits.break) jump(exits.break);
  if (exits.continue) jump(exits.continue);
  ret(exits.return);
}

function requestReads(op: Extract<Op, { op: "suspend" }>, reads: (e: ast.Expr | undefined, into: Set<string>) => void, into: Set<string>): void {
  const r = op.request;
  switch (r.kind) {
    case "sleep":
      return void reads(r.duration, into);
    case "suspend":
      return void reads(r.reason, into);
    case "wait":
      return void reads(r.timeout, into);
    case "await":
      return void reads(r.job, into);
    case "parallel":
      return void reads(r.node, into); // its iterable, limit and captures (ast-walk.ts)
    case "call":
      for (const a of r.args) reads(a.value, into);
      return;
    case "checkpoint":
      return;
  }
}

/**
 * Each op's exceptional successor, by the same rule the emitted dispatcher applies to pcs: the
 * innermost region whose body holds the op and has a catch, or whose body or catch holds it and
 * has a finally.
 */
function assignHandlers(nodes: Node[], lowered: Lowered, at: (l: Label) => number): void {
  const regions = lowered.regions.map((r) => ({
    start: at(r.start),
    handler: r.handler === undefined ? -1 : at(r.handler),
    finally: r.finally === undefined ? -1 : at(r.finally),
    end: at(r.end),
    binding: r.binding ?? null,
    completion: r.completion ?? null,
  }));
  nodes.forEach((n, i) => {
    if (n.op.op === "mark") return;
    for (const r of regions) {
      if (i < r.start || i >= r.end) continue;
      if (r.handler >= 0 && i < r.handler) {
        n.handler = { index: r.handler, defines: r.binding };
        return;
      }
      if (r.finally >= 0 && i < r.finally) {
        n.handler = { index: r.finally, defines: r.completion };
        return;
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Reads and writes of AST code

/** Every slot an expression reads. */
export function exprReads(e: ast.Expr | undefined, slots: Slots, into: Set<string> = new Set()): Set<string> {
  if (!e) return into;
  if (e.kind === "Name") {
    const s = slots.refs.get(e);
    if (s !== undefined) into.add(s);
    return into;
  }
  for (const child of childExprs(e)) exprReads(child, slots, into);
  return into;
}

/** The root slot of an assignment target (`x` in `x.f[i]`). */
export function targetRoot(t: ast.NameExpr | ast.MemberExpr | ast.IndexExpr): ast.NameExpr {
  let e: ast.Expr = t;
  while (e.kind === "Member" || e.kind === "Index") e = e.object;
  if (e.kind !== "Name") throw new Error("an assignment target must start with a name");
  return e;
}

/** Reads and writes of an assignment; `withValue` includes the value expression's reads. */
function assignEffect(s: ast.AssignStmt, slots: Slots, use: Set<string>, def: Set<string>, withValue: boolean): void {
  const root = slots.refs.get(targetRoot(s.target));
  if (withValue) exprReads(s.value, slots, use);
  if (s.target.kind !== "Name") {
    // x.f[i] = v reads x (the copy is rebuilt from it) and the index expressions.
    exprReads(s.target, slots, use);
  } else if (s.operator !== "=" && root !== undefined) use.add(root);
  if (root !== undefined) def.add(root);
}

interface Effect {
  /** Slots read before any write on some path through the statement. */
  gen: Set<string>;
  /** Slots written on every path that completes normally. */
  kill: Set<string>;
}

/** Upward-exposed reads and definite writes of a statement emitted whole. */
export function stmtEffect(s: ast.Stmt, slots: Slots): Effect {
  const reads = (e: ast.Expr | undefined): Set<string> => exprReads(e, slots);
  const seq = (list: ast.Stmt[]): Effect => {
    const gen = new Set<string>();
    const kill = new Set<string>();
    for (const st of list) {
      const e = stmtEffect(st, slots);
      for (const x of e.gen) if (!kill.has(x)) gen.add(x);
      for (const x of e.kill) kill.add(x);
    }
    return { gen, kill };
  };
  const union = (...sets: Set<string>[]): Set<string> => {
    const out = new Set<string>();
    for (const set of sets) for (const x of set) out.add(x);
    return out;
  };
  switch (s.kind) {
    case "Let":
      return { gen: reads(s.value), kill: new Set([slots.binders.get(s.name)!]) };
    case "Assign": {
      const gen = new Set<string>();
      const kill = new Set<string>();
      assignEffect(s, slots, gen, kill, true);
      return { gen, kill };
    }
    case "If": {
      const then = seq(s.then.statements);
      const other = s.otherwise === undefined ? { gen: new Set<string>(), kill: new Set<string>() } : s.otherwise.kind === "If" ? stmtEffect(s.otherwise, slots) : seq(s.otherwise.statements);
      const kill = new Set([...then.kill].filter((x) => other.kill.has(x)));
      return { gen: union(reads(s.condition), then.gen, other.gen), kill };
    }
    case "While":
      return { gen: union(reads(s.condition), seq(s.body.statements).gen), kill: new Set() };
    case "For": {
      const body = seq(s.body.statements);
      const names = new Set(s.names.map((id) => slots.binders.get(id)!));
      return { gen: union(reads(s.iterable), new Set([...body.gen].filter((x) => !names.has(x)))), kill: new Set() };
    }
    case "Return":
      return { gen: reads(s.value), kill: new Set() };
    case "Sleep":
      return { gen: reads(s.duration), kill: new Set() };
    case "Suspend":
      return { gen: reads(s.reason), kill: new Set() };
    case "Stream":
      return { gen: reads(s.value), kill: new Set() };
    case "Fail":
      return { gen: reads(s.message), kill: new Set() };
    case "Try": {
      const body = seq(s.block.statements);
      const handler = s.handler ? seq(s.handler.body.statements) : undefined;
      const fin = s.finalizer ? seq(s.finalizer.statements) : undefined;
      const binding = s.handler ? slots.binders.get(s.handler.param) : undefined;
      const handlerGen = handler ? new Set([...handler.gen].filter((x) => x !== binding)) : new Set<string>();
      return { gen: union(body.gen, handlerGen, fin?.gen ?? new Set()), kill: fin?.kill ?? new Set() };
    }
    case "Retry": {
      const body = seq(s.body.statements);
      return { gen: union(reads(s.attempts), reads(s.delay), reads(s.backoff), body.gen), kill: new Set() };
    }
    case "ExprStmt":
      return { gen: reads(s.expression), kill: new Set() };
    case "Break":
    case "Continue":
    case "Checkpoint":
      return { gen: new Set(), kill: new Set() };
    default:
      return assertNever(s, "statement");
  }
}
