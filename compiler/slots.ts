// Frame slots: every parameter, local and compiler temporary of a runbook lives in
// `frame.locals` under a slot name. Block scoping allows shadowing, and sibling blocks may
// declare the same name with different types, so every declaration gets a slot of its own: the
// first declaration of `x` is slot `x`, later ones `x$2`, `x$3`... (runbook identifiers never
// contain `$`, and compiler temporaries start with `$`, so no two can collide). Parameters keep
// their own names: the driver stores arguments under them.
//
// Scoping follows the checker (compiler/scope.ts): parameters share the body's outermost scope,
// a `for` loop's names and a `catch` name share their block's scope, every other block opens
// one of its own.
import type * as ast from "../grammar/ast.js";
import { childExprs } from "./ast-walk.js";
import type { CheckedRunbook } from "./checked.js";
import { tsType, typeOfNode } from "./tstype.js";
import type { Type } from "./types.js";

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
  /** Each `let` → its slot. */
  lets: Map<ast.LetStmt, string>;
  /** Each `for` name and `catch` name (by Identifier node) → its slot. */
  binders: Map<ast.Identifier, string>;
}

/** The TS type of a caught error in `catch err` (an ErrorRecord as JSON). */
export const ERROR_TS = "{ message: string; runbook: string; file: string; line: number; column: number; data: Json }";

/** Resolves every name of a runbook to a frame slot and gives each slot its TypeScript type. */
export function resolveSlots(rb: CheckedRunbook): Slots {
  const slots: Slots = { all: new Map(), refs: new Map(), lets: new Map(), binders: new Map() };
  const counts = new Map<string, number>();
  const typeOf = (e: ast.Expr): Type | undefined => rb.types.get(e);

  const declare = (name: string, kind: SlotKind, ts: string): string => {
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    // A name Object.prototype already has (`__proto__`, `toString`) always gets a suffix: a
    // plain `L.__proto__ = v` would set the prototype instead of storing a local.
    const slot = n === 1 && !(name in Object.prototype) ? name : `${name}$${n}`;
    slots.all.set(slot, { name: slot, kind, ts });
    return slot;
  };

  type Scope = Map<string, string>[];
  const lookup = (scope: Scope, name: string): string | undefined => {
    for (let i = scope.length - 1; i >= 0; i--) {
      const s = scope[i].get(name);
      if (s !== undefined) return s;
    }
    return undefined;
  };

  const expr = (e: ast.Expr | undefined, scope: Scope): void => {
    if (!e) return;
    if (e.kind === "Name") {
      const slot = lookup(scope, e.name);
      if (slot !== undefined) slots.refs.set(e, slot);
      return;
    }
    for (const child of childExprs(e)) expr(child, scope);
  };

  const block = (b: ast.Block, scope: Scope, own?: Map<string, string>): void => {
    const inner = [...scope, own ?? new Map<string, string>()];
    for (const s of b.statements) stmt(s, inner);
  };

  const stmt = (s: ast.Stmt, scope: Scope): void => {
    const here = scope[scope.length - 1];
    switch (s.kind) {
      case "Let": {
        expr(s.value, scope);
        const type = s.type ? typeOfNode(s.type) : letType(s.value);
        const slot = declare(s.name.name, "local", tsType(type));
        slots.lets.set(s, slot);
        here.set(s.name.name, slot);
        return;
      }
      case "Assign":
        expr(s.target, scope);
        expr(s.value, scope);
        return;
      case "If":
        expr(s.condition, scope);
        block(s.then, scope);
        if (s.otherwise?.kind === "Block") block(s.otherwise, scope);
        else if (s.otherwise) stmt(s.otherwise, scope);
        return;
      case "While":
        expr(s.condition, scope);
        block(s.body, scope);
        return;
      case "For": {
        expr(s.iterable, scope);
        const own = new Map<string, string>();
        const types = forTypes(s);
        s.names.forEach((id, i) => {
          const slot = declare(id.name, "local", tsType(types[i]));
          slots.binders.set(id, slot);
          own.set(id.name, slot);
        });
        block(s.body, scope, own);
        return;
      }
      case "Return":
        expr(s.value, scope);
        return;
      case "Sleep":
        expr(s.duration, scope);
        return;
      case "Suspend":
        expr(s.reason, scope);
        return;
      case "Stream":
        expr(s.value, scope);
        return;
      case "Fail":
        expr(s.message, scope);
        return;
      case "Try": {
        block(s.block, scope);
        if (s.handler) {
          const slot = declare(s.handler.param.name, "local", ERROR_TS);
          slots.binders.set(s.handler.param, slot);
          block(s.handler.body, scope, new Map([[s.handler.param.name, slot]]));
        }
        if (s.finalizer) block(s.finalizer, scope);
        return;
      }
      case "Retry":
        expr(s.attempts, scope);
        expr(s.delay, scope);
        expr(s.backoff, scope);
        block(s.body, scope);
        return;
      case "ExprStmt":
        expr(s.expression, scope);
        return;
      default:
        return;
    }
  };

  /** The type a `let` without annotation gets: its value's (a wait or await gives `any`). */
  function letType(value: ast.Expr): Type | undefined {
    if (value.kind === "Wait" || value.kind === "Await") return { kind: "any" };
    return typeOf(value);
  }

  /** The types of a `for` loop's names, from the iterable's type. */
  function forTypes(s: ast.ForStmt): (Type | undefined)[] {
    if (s.iterable.kind === "Binary" && s.iterable.operator === "..") return [{ kind: "number" }];
    const t = stripOptional(typeOf(s.iterable));
    const pairs = s.names.length === 2;
    if (t?.kind === "list") return pairs ? [{ kind: "number" }, t.element] : [t.element];
    if (t?.kind === "map") return pairs ? [{ kind: "string" }, t.value] : [{ kind: "string" }];
    if (t?.kind === "record") return pairs ? [{ kind: "string" }, undefined] : [{ kind: "string" }];
    return pairs ? [undefined, undefined] : [undefined];
  }

  const top = new Map<string, string>();
  for (const p of rb.signature.params) {
    slots.all.set(p.name, { name: p.name, kind: "param", ts: tsType(p.type) });
    counts.set(p.name, 1);
    top.set(p.name, p.name);
  }
  for (const p of rb.decl.params) expr(p.default, [top]);
  block(rb.decl.body, [], top);
  return slots;
}

function stripOptional(t: Type | undefined): Type | undefined {
  return t?.kind === "optional" ? t.inner : t;
}
