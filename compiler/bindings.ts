// What every name of a runbook binds to, as the checker resolved it (compiler/check-runbook.ts
// records it while it walks the scopes): each declaration (parameter, `let`, `for` name, `catch`
// name) with its type and spans, and every name expression that reads or writes it. Later
// passes (compiler/slots.ts) use this record instead of resolving scopes again, and an editor
// asks it what is at a position (hover, go to definition, rename) and what is in scope there
// (completion).
import type * as ast from "../grammar/ast.js";
import type { ActivityFunction } from "./activity-types.js";
import type { CheckedProject, CheckedRunbook, Signature } from "./checked.js";
import { forEachExpr } from "./ast-walk.js";
import type { Type } from "./types.js";

export type BindingKind = "param" | "let" | "for" | "catch";

/** One declaration of a local name and every use of it. */
export interface Binding {
  name: string;
  kind: BindingKind;
  /** The declared type, or the inferred one for a `let` without annotation. */
  type: Type;
  /** The name where it is declared. */
  id: ast.Identifier;
  /** The names that read or write it, in the order the checker met them (source order). */
  uses: ast.NameExpr[];
  /**
   * Where the name can be used: from after its declaration (a `let`'s whole statement; a
   * parameter, `for` or `catch` name: the start of its block) to the end of its block.
   */
  visible: { from: number; to: number };
  /** False for a redeclaration the checker refused (uses resolve to the first declaration). */
  inScope: boolean;
}

export interface Bindings {
  /** Every declaration, in the order the checker met them (parameters first). */
  all: Binding[];
  /** Declaring identifier → its binding. */
  ofDecl: Map<ast.Identifier, Binding>;
  /** Name expression → the binding it refers to (names that bind nothing are absent). */
  ofRef: Map<ast.NameExpr, Binding>;
}

export function emptyBindings(): Bindings {
  return { all: [], ofDecl: new Map(), ofRef: new Map() };
}

/** What the name at a position is: a local (at its declaration or a use), or a call's callee. */
export type NameAt =
  | { kind: "local"; binding: Binding; span: ast.Span; rb: CheckedRunbook }
  | { kind: "runbook"; name: string; signature: Signature; decl: ast.RunbookDecl | undefined; file: string | undefined; span: ast.Span; rb: CheckedRunbook }
  /** `signature.declaration` is where the function is declared in its `.ts` module (undefined for a built-in activity). */
  | { kind: "activity"; module: string; fn: string; signature: ActivityFunction | undefined; span: ast.Span; rb: CheckedRunbook }
  | { kind: "builtin"; fn: string; span: ast.Span; rb: CheckedRunbook };

/** The position an editor asks about: 1-based line and column, as in diagnostics. */
export interface Position {
  file: string;
  line: number;
  column: number;
}

/**
 * The name at a position of a checked project, or undefined. Works on projects with errors (an
 * editor asks while the file is being typed): whatever the checker resolved is there.
 */
export function bindingAt(program: CheckedProject, at: Position): NameAt | undefined {
  const rb = runbookAt(program, at);
  if (!rb) return undefined;
  for (const b of rb.bindings.all) {
    if (contains(b.id.span, at)) return { kind: "local", binding: b, span: b.id.span, rb };
  }
  let found: NameAt | undefined;
  forEachExpr(rb.decl.body, (e) => {
    if (found) return;
    if (e.kind === "Name" && contains(e.span, at)) {
      const binding = rb.bindings.ofRef.get(e);
      if (binding) found = { kind: "local", binding, span: e.span, rb };
    } else if (e.kind === "Call" && contains(e.callee.span, at)) {
      found = callee(program, rb, e);
    }
  });
  return found;
}

/** The locals that can be used at a position (the innermost declaration of each name). */
export function bindingsInScope(program: CheckedProject, at: Position): Binding[] {
  const rb = runbookAt(program, at);
  if (!rb) return [];
  const offset = offsetOf(program.sources.get(at.file), at);
  if (offset === undefined) return [];
  const visible = new Map<string, Binding>();
  for (const b of rb.bindings.all) {
    if (!b.inScope || offset < b.visible.from || offset > b.visible.to) continue;
    const seen = visible.get(b.name);
    // Nested scopes start later: the latest start is the innermost (shadowing) declaration.
    if (!seen || b.visible.from >= seen.visible.from) visible.set(b.name, b);
  }
  return [...visible.values()];
}

function callee(program: CheckedProject, rb: CheckedRunbook, e: ast.CallExpr): NameAt | undefined {
  const r = rb.calls.get(e);
  const span = e.callee.span;
  if (!r) return undefined;
  switch (r.kind) {
    case "runbook": {
      const target = program.runbooks.get(r.callee);
      const signature = target?.signature ?? { name: r.callee, params: [], returns: { kind: "null" } };
      return { kind: "runbook", name: r.callee, signature, decl: target?.decl, file: target?.file, span, rb };
    }
    case "activity":
      return { kind: "activity", module: r.module, fn: r.fn, signature: rb.modules.get(r.module)?.functions.get(r.fn), span, rb };
    case "builtin":
      return { kind: "builtin", fn: r.fn, span, rb };
  }
}

function runbookAt(program: CheckedProject, at: Position): CheckedRunbook | undefined {
  for (const rb of program.runbooks.values()) if (rb.file === at.file && contains(rb.decl.span, at)) return rb;
  return undefined;
}

function contains(span: ast.Span, at: Position): boolean {
  const afterStart = at.line > span.start.line || (at.line === span.start.line && at.column >= span.start.column);
  const beforeEnd = at.line < span.end.line || (at.line === span.end.line && at.column <= span.end.column);
  return afterStart && beforeEnd;
}

/** The offset of a line and column in a source text. */
function offsetOf(text: string | undefined, at: Position): number | undefined {
  if (text === undefined) return undefined;
  let offset = 0;
  for (let line = 1; line < at.line; line++) {
    const nl = text.indexOf("\n", offset);
    if (nl < 0) return undefined;
    offset = nl + 1;
  }
  return offset + at.column - 1;
}
