// Frame slots: every parameter, local and compiler temporary of a runbook lives in
// `frame.locals` under a slot name. Block scoping allows shadowing, and sibling blocks may
// declare the same name with different types, so every declaration gets a slot of its own: the
// first declaration of `x` is slot `x`, later ones `x$2`, `x$3`... (runbook identifiers never
// contain `$`, and compiler temporaries start with `$`, so no two can collide). Parameters keep
// their own names: the driver stores arguments under them.
//
// Which declaration a name refers to, and its type, are the checker's (compiler/bindings.ts):
// nothing is resolved again here.
import type * as ast from "../grammar/ast.js";
import { assertNever } from "../runtime/never.js";
import type { Binding } from "./bindings.js";
import type { CheckedRunbook } from "./checked.js";
import { tsType } from "./tstype.js";

export type SlotKind = "param" | "local" | "temp";

export interface SlotInfo {
  name: string;
  kind: SlotKind;
  /** Its TypeScript type in the emitted `Locals` interface. */
  ts: string;
}

export interface Slots {
  /** Every slot, in declaration order (params first, then locals, then temps as lowered). */
  all: Map<string, SlotInfo>;
  /** Each name reference → the slot it reads or writes. */
  refs: Map<ast.NameExpr, string>;
  /** Each declared name (parameter, `let`, `for` and `catch` names, by Identifier node) → its slot. */
  binders: Map<ast.Identifier, string>;
}

/** The TS type of a caught error in `catch err` (an ErrorRecord as JSON). */
export const ERROR_TS = "{ message: string; runbook: string; file: string; line: number; column: number; data: Json }";

/**
 * Gives every declaration the checker recorded (compiler/bindings.ts) a frame slot with its
 * TypeScript type, and every name reference the slot of the declaration it binds to.
 */
export function resolveSlots(rb: CheckedRunbook): Slots {
  const slots: Slots = { all: new Map(), refs: new Map(), binders: new Map() };
  const counts = new Map<string, number>();
  const slotOf = new Map<Binding, string>();

  const declare = (name: string, kind: SlotKind, ts: string): string => {
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    // A name Object.prototype already has (`__proto__`, `toString`) always gets a suffix: a
    // plain `L.__proto__ = v` would set the prototype instead of storing a local.
    const slot = n === 1 && !(name in Object.prototype) ? name : `${name}$${n}`;
    slots.all.set(slot, { name: slot, kind, ts });
    return slot;
  };

  for (const p of rb.signature.params) {
    slots.all.set(p.name, { name: p.name, kind: "param", ts: tsType(p.type) });
    counts.set(p.name, 1);
  }
  for (const b of rb.bindings.all) {
    const slot = b.kind === "param" ? b.name : declare(b.name, "local", slotType(b));
    slotOf.set(b, slot);
    slots.binders.set(b.id, slot);
  }
  for (const [e, b] of rb.bindings.ofRef) slots.refs.set(e, slotOf.get(b)!);
  return slots;
}

/** A slot's TS type: its binding's type; a caught error is an ErrorRecord as JSON. */
function slotType(b: Binding): string {
  switch (b.kind) {
    case "catch":
      return ERROR_TS;
    case "param":
    case "let":
    case "for":
      return tsType(b.type);
    default:
      return assertNever(b.kind, "binding kind");
  }
}
