// The intermediate representation between lowering (compiler/lower.ts) and the case builder
// (compiler/build.ts): a flat list of ops with symbolic labels, plus a static table of protected
// regions. The spec of what each op means and becomes is at the top of lower.ts; these are the
// types only. Everything here is plain data that refers to AST nodes and frame slot names.
import type * as ast from "../grammar/ast.js";

/** A symbolic jump target; `build` gives each one a case number (a program counter). */
export type Label = number;

/** A `.runbook` position: the statement an op came from. */
export interface Site {
  line: number;
  column: number;
}

/** How a jump leaves: straight to `target`, or first through the finally of a try it exits. */
export interface JumpPlan {
  target: Label;
  /** The innermost split `finally` the jump crosses: store the completion there and run it. */
  via?: FinallyHop;
}

/** `return` from where it stands: straight out of the frame, or through a split `finally`. */
export interface ReturnPlan {
  via?: FinallyHop;
}

export interface FinallyHop {
  /** The completion-record slot of that try statement. */
  completion: string;
  /** Its finally label. */
  finally: Label;
}

/** Where break, continue and return inside a native statement go when they leave it. */
export interface Exits {
  break: JumpPlan | undefined;
  continue: JumpPlan | undefined;
  return: ReturnPlan;
}

/** What a landing does with the value delivered after a suspension. */
export type Destination =
  | { kind: "discard" }
  | { kind: "let"; slot: string }
  | { kind: "assign"; stmt: ast.AssignStmt }
  | { kind: "return"; plan: ReturnPlan };

/** The request a suspension op returns to the driver. */
export type Request =
  | { kind: "checkpoint"; label: string | null }
  | { kind: "sleep"; duration: ast.Expr }
  | { kind: "suspend"; reason: ast.Expr | undefined }
  | { kind: "wait"; signal: string; timeout: ast.Expr | undefined }
  | { kind: "await"; job: ast.Expr }
  | { kind: "call"; runbook: string; args: { name: string; value: ast.Expr }[] }
  /** `parallel for`: one branch job of `runbook` per element (runtime/join.ts runs them). */
  | { kind: "parallel"; runbook: string; node: ast.ParallelExpr };

export type Op =
  | { op: "mark"; label: Label }
  | { op: "defaults"; params: ast.Param[]; at: Site }
  | { op: "stmt"; stmt: ast.Stmt; exits: Exits; at: Site }
  | { op: "br"; plan: JumpPlan; record: "normal" | "break" | "continue"; at: Site }
  | { op: "brfalse"; cond: ast.Expr; target: Label; at: Site }
  | { op: "forInit"; iter: string; index: string; iterable: ast.Expr; pairs: boolean; at: Site }
  | { op: "forNext"; iter: string; index: string; names: string[]; end: Label; at: Site }
  | { op: "retryInit"; retry: RetrySlots; attempts: ast.Expr | undefined; delay: ast.Expr | undefined; backoff: ast.Expr | undefined; at: Site }
  | { op: "retryFailed"; retry: RetrySlots; again: Label; at: Site }
  | { op: "suspend"; request: Request; resume: Label; at: Site }
  | { op: "receive"; into: Destination; at: Site }
  | { op: "endFinally"; completion: string; next: Label; exits: FinallyExits; at: Site }
  | { op: "end" };

/** The temporaries of one `retry` statement. */
export interface RetrySlots {
  /** Attempts allowed, delay (ms) and backoff factor, evaluated once on entry. */
  attempts: string;
  delay: string;
  backoff: string;
  /** The attempt running now, 1-based. */
  attempt: string;
  /** The error of the failed attempt (stored by the catch dispatcher). */
  error: string;
}

/** Where an `endFinally` sends each pending completion that is not "normal" or "throw". */
export interface FinallyExits {
  /** Every break/continue target that was routed through this finally, with its onward plan. */
  jumps: { target: Label; plan: JumpPlan }[];
  /** How a pending return continues from the try statement; absent when no return goes through. */
  return: ReturnPlan | undefined;
}

/**
 * A protected region, regenerator-style: which handler applies is a pure function of the pc.
 * `[start, handler)` is the protected body; `[handler, finally)` the catch body; `[finally, end)`
 * the finally body. An error at a pc in the body goes to `handler` (the error stored in
 * `binding`) when there is one, else to `finally` with a throw completion in `completion`.
 */
export interface Region {
  start: Label;
  /** The catch label (a `catch` clause, or a retry's failure handler). */
  handler: Label | undefined;
  /** Slot the error is stored in when the handler takes it. */
  binding: string | undefined;
  finally: Label | undefined;
  completion: string | undefined;
  end: Label;
}

/** What lowering hands the builder: the op list and the regions, innermost first. */
export interface Lowered {
  ops: Op[];
  regions: Region[];
}
