// The checked program: what the checker hands the back end (lowering, emission).
//
// The AST is not copied or annotated in place; the checker's facts about nodes are side tables
// keyed by the node objects of the parser's AST. A back end only ever sees a CheckedProject of a
// project without errors (the pipeline stops after the checker when there are errors).
import type { Placement } from "../runtime/abi.js";
import type * as ast from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { ActivityModule } from "./activities.js";
import type { Bindings } from "./bindings.js";
import type { Type } from "./types.js";

/** A runbook's header as callers see it. */
export interface Signature {
  name: string;
  params: { name: string; type: Type; hasDefault: boolean }[];
  /** Declared result type; `null` type when the header has no `-> T`. */
  returns: Type;
}

/** An activity function read from a `use` module (compiler/activities.ts) or a built-in one. */
export interface ActivitySignature {
  /** The `use` alias, or "" for the built-in activities exec/http/sql/asset. */
  module: string;
  name: string;
  /** The properties of its argument object, in declaration order. */
  params: { name: string; type: Type; optional: boolean }[];
  /** The result type, `Promise<T>` unwrapped. */
  returns: Type;
}

/**
 * How a call expression resolved. Arguments are normalized to the callee's parameter order:
 * `args[i]` is the expression passed for parameter i (positional or named), or undefined when
 * the caller left it out (the callee's default, or null for an optional activity argument).
 */
export type CallResolution =
  | { kind: "runbook"; callee: string; canSuspend: boolean; paramNames: string[]; args: (ast.Expr | undefined)[] }
  | { kind: "activity"; module: string; fn: string; paramNames: string[]; args: (ast.Expr | undefined)[] }
  | { kind: "builtin"; fn: string; args: ast.Expr[] };

export interface CheckedRunbook {
  file: string;
  source: ast.SourceFileNode;
  decl: ast.RunbookDecl;
  signature: Signature;
  /** Can any path reach a suspension point, directly or through inline calls? */
  canSuspend: boolean;
  /** Every CallExpr in the runbook (including inside `start`) → its resolution. */
  calls: Map<ast.CallExpr, CallResolution>;
  /** Static type of every expression (the back end may use it; nothing requires it). */
  types: Map<ast.Expr, Type>;
  /** `use` alias → path as written. */
  uses: Record<string, string>;
  /** `use` alias → the module as read (its functions with their declarations). */
  modules: ReadonlyMap<string, ActivityModule>;
  /** What every local name binds to (compiler/bindings.ts). */
  bindings: Bindings;
  /** The header's `group` and `concurrency` clauses, checked (compiler/placement.ts). */
  placement: Placement | undefined;
  /** The body of a `parallel for` of this runbook (check-parallel.ts): published only with it. */
  branchOf?: string;
}

export interface CheckedProject {
  runbooks: Map<string, CheckedRunbook>;
  diagnostics: Diagnostic[];
  /** File path → its text, for printing diagnostics with source lines. */
  sources: Map<string, string>;
}
