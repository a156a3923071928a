// Building: the lowered op list → numbered cases of the state machine. Two phases, as in
// TypeScript's generators transform: lowering only defines and marks labels; here every label
// gets its case number (its program counter), so the emitter prints resolved numbers only.
//
// A `.mark` starts a new case unless the current case is still empty (then the labels share
// one number). Ops after an unconditional transfer (`.br`, `.suspend`, ...) up to the next mark
// are unreachable and dropped. A case that does not end in a transfer falls into the next one.
import type { Label, Lowered, Op, Site } from "./ir.js";

export interface Case {
  pc: number;
  ops: Op[];
  /** Position of the first op that has one (for the case comment and `positions`). */
  at: Site | undefined;
  /** When the case ends without a transfer: the pc it falls into. */
  fallsInto: number | undefined;
}

/** A protected region with its labels resolved to pcs (-1 for an absent part). */
export interface BuiltRegion {
  start: number;
  handler: number;
  binding: string | null;
  finally: number;
  completion: string | null;
  end: number;
}

export interface Built {
  cases: Case[];
  /** Label → pc. */
  pcs: Map<Label, number>;
  regions: BuiltRegion[];
}

/** Does control never continue to the op after this one? */
export function isTransfer(op: Op): boolean {
  switch (op.op) {
    case "br":
    case "suspend":
    case "retryFailed":
    case "endFinally":
    case "end":
      return true;
    case "stmt":
      return op.stmt.kind === "Return" || op.stmt.kind === "Break" || op.stmt.kind === "Continue" || op.stmt.kind === "Fail";
    case "receive":
      return op.into.kind === "return";
    default:
      return false;
  }
}

export function build(lowered: Lowered): Built {
  const cases: Case[] = [];
  const pcs = new Map<Label, number>();
  let current: Case | undefined;
  let reachable = true;
  for (const op of lowered.ops) {
    if (op.op === "mark") {
      if (current && current.ops.length === 0) {
        pcs.set(op.label, current.pc);
        continue;
      }
      const next: Case = { pc: cases.length, ops: [], at: undefined, fallsInto: undefined };
      if (current && reachable) current.fallsInto = next.pc;
      cases.push(next);
      current = next;
      reachable = true;
      pcs.set(op.label, next.pc);
      continue;
    }
    if (!current || !reachable) continue;
    current.ops.push(op);
    if (!current.at && "at" in op && op.at) current.at = op.at;
    if (isTransfer(op)) reachable = false;
  }
  const pc = (l: Label | undefined): number => (l === undefined ? -1 : pcs.get(l)!);
  const regions = lowered.regions.map((r) => ({
    start: pc(r.start),
    handler: pc(r.handler),
    binding: r.binding ?? null,
    finally: pc(r.finally),
    completion: r.completion ?? null,
    end: pc(r.end),
  }));
  return { cases, pcs, regions };
}
