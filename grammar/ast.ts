// The runbook AST: plain typed data, the contract between the parser and every later stage.
//
// Rules every producer and consumer relies on:
// - Every node has `kind` (a string literal, the discriminant) and `span` (where it stands in
//   its file). Nothing from chevrotain appears here; `grammar/` is the only folder that knows
//   about chevrotain.
// - Nodes are JSON-shaped: no classes, no cycles, no parent pointers. A stage that needs facts
//   about nodes (types, resolutions) keeps them in its own side tables keyed by node object.
// - When the parser recovers from a syntax error it still returns a tree; a part it could not
//   read becomes an `ErrorExpr` / is left out, and the diagnostics say why.

/** A position in a file. Lines and columns are 1-based; columns count UTF-16 code units. */
export interface Position {
  line: number;
  column: number;
  /** 0-based offset into the file's text. */
  offset: number;
}

/** The source range of a node: `start` inclusive, `end` exclusive. */
export interface Span {
  file: string;
  start: Position;
  end: Position;
}

// ---------------------------------------------------------------------------------------------
// Files and declarations

/** One `.runbook` file: its `use` declarations, then exactly one runbook (absent if unparsable). */
export interface SourceFileNode {
  kind: "SourceFile";
  span: Span;
  /** Path as given to the compiler (used in diagnostics). */
  file: string;
  uses: UseDecl[];
  runbook: RunbookDecl | undefined;
}

/** `use "./activities.ts" as infra` */
export interface UseDecl {
  kind: "Use";
  span: Span;
  /** The path exactly as written (relative to the runbook's folder). */
  path: string;
  alias: Identifier;
}

/** `runbook NAME(PARAMS) -> TYPE { BODY }` */
export interface RunbookDecl {
  kind: "Runbook";
  span: Span;
  name: Identifier;
  params: Param[];
  /** Absent when the header has no `-> TYPE`. */
  returnType: TypeNode | undefined;
  /** `concurrency (key: EXPR, limit: N)` after the header (docs/language.md). */
  concurrency: ConcurrencyClause | undefined;
  /** `group "NAME"` after the header: the worker group its jobs go to by default. */
  group: { span: Span; name: string } | undefined;
  body: Block;
}

/** `concurrency (key: EXPR, limit: N)`; `key` absent: the key is the runbook's name. */
export interface ConcurrencyClause {
  kind: "Concurrency";
  span: Span;
  key: Expr | undefined;
  limit: Expr;
}

/** `name: TYPE (= DEFAULT)?` */
export interface Param {
  kind: "Param";
  span: Span;
  name: Identifier;
  type: TypeNode;
  default: Expr | undefined;
}

export interface Identifier {
  kind: "Identifier";
  span: Span;
  name: string;
}

// ---------------------------------------------------------------------------------------------
// Type annotations as written

export type TypeNode = NamedType | ListType | MapType | RecordType | OptionalType;

/** `string`, `number`, `bool`, `duration`, `time`, `any`. Unknown names are a checker error. */
export interface NamedType {
  kind: "NamedType";
  span: Span;
  name: string;
}
/** `list<T>` */
export interface ListType {
  kind: "ListType";
  span: Span;
  element: TypeNode;
}
/** `map<T>` */
export interface MapType {
  kind: "MapType";
  span: Span;
  value: TypeNode;
}
/** `{a: T, b: U}` */
export interface RecordType {
  kind: "RecordType";
  span: Span;
  fields: { name: Identifier; type: TypeNode }[];
}
/** `T?` */
export interface OptionalType {
  kind: "OptionalType";
  span: Span;
  inner: TypeNode;
}

// ---------------------------------------------------------------------------------------------
// Statements

export interface Block {
  kind: "Block";
  span: Span;
  statements: Stmt[];
}

export type Stmt =
  | LetStmt
  | AssignStmt
  | IfStmt
  | WhileStmt
  | ForStmt
  | BreakStmt
  | ContinueStmt
  | ReturnStmt
  | CheckpointStmt
  | SleepStmt
  | SuspendStmt
  | StreamStmt
  | FailStmt
  | TryStmt
  | RetryStmt
  | ExprStmt;

/**
 * `let x (: T)? = e`. The value may be any expression, including the suspending forms
 * `WaitExpr`, `StartExpr`, `AwaitExpr` and inline runbook calls (which may only stand here, as
 * the whole right side of an assignment, as an `ExprStmt`, or as the value of `return`).
 */
export interface LetStmt {
  kind: "Let";
  span: Span;
  name: Identifier;
  type: TypeNode | undefined;
  value: Expr;
}

/** `target op value` where target is a name, `a.f` or `a[i]` (possibly nested). */
export interface AssignStmt {
  kind: "Assign";
  span: Span;
  target: NameExpr | MemberExpr | IndexExpr;
  operator: "=" | "+=" | "-=";
  value: Expr;
}

/** `if c {} else if c2 {} else {}`: an `else if` chain is nested IfStmts in `otherwise`. */
export interface IfStmt {
  kind: "If";
  span: Span;
  condition: Expr;
  then: Block;
  otherwise: Block | IfStmt | undefined;
}

export interface WhileStmt {
  kind: "While";
  span: Span;
  condition: Expr;
  body: Block;
}

/**
 * `for x in e {}` or `for a, b in e {}`. With one name it binds list elements, range numbers
 * or map keys; with two it binds (index, element) of a list or (key, value) of a map. A range
 * is a `BinaryExpr` with operator `..` as `iterable`.
 */
export interface ForStmt {
  kind: "For";
  span: Span;
  /** `for x in` → [x]; `for k, v in` → [k, v]. */
  names: [Identifier] | [Identifier, Identifier];
  iterable: Expr;
  body: Block;
}

export interface BreakStmt {
  kind: "Break";
  span: Span;
}
export interface ContinueStmt {
  kind: "Continue";
  span: Span;
}
export interface ReturnStmt {
  kind: "Return";
  span: Span;
  value: Expr | undefined;
}

/** `checkpoint ("label")?`: the label is a plain string literal, not interpolated. */
export interface CheckpointStmt {
  kind: "Checkpoint";
  span: Span;
  label: StringLiteral | undefined;
}

/** `sleep e` (e: duration) */
export interface SleepStmt {
  kind: "Sleep";
  span: Span;
  duration: Expr;
}

/** `suspend ("reason")?` */
export interface SuspendStmt {
  kind: "Suspend";
  span: Span;
  reason: Expr | undefined;
}

/** `output e`, `log e`, `warn e`, `error e` */
export interface StreamStmt {
  kind: "Stream";
  span: Span;
  stream: StreamName;
  value: Expr;
}
export type StreamName = "output" | "log" | "warn" | "error";

/** `fail e` */
export interface FailStmt {
  kind: "Fail";
  span: Span;
  message: Expr;
}

/** `try {} catch err {} finally {}`; at least one of handler and finalizer is present. */
export interface TryStmt {
  kind: "Try";
  span: Span;
  block: Block;
  handler: { param: Identifier; body: Block; span: Span } | undefined;
  finalizer: Block | undefined;
}

/** `retry (attempts: n, delay: d, backoff: f)? {}`; each option may be left out. */
export interface RetryStmt {
  kind: "Retry";
  span: Span;
  attempts: Expr | undefined;
  delay: Expr | undefined;
  backoff: Expr | undefined;
  body: Block;
}

/** An expression standing as a statement: a call, `wait`, `await`. */
export interface ExprStmt {
  kind: "ExprStmt";
  span: Span;
  expression: Expr;
}

// ---------------------------------------------------------------------------------------------
// Expressions

export type Expr =
  | NumberLiteral
  | StringLiteral
  | TemplateString
  | BoolLiteral
  | NullLiteral
  | DurationLiteral
  | ListLiteral
  | MapLiteral
  | NameExpr
  | MemberExpr
  | IndexExpr
  | CallExpr
  | UnaryExpr
  | BinaryExpr
  | WaitExpr
  | StartExpr
  | AwaitExpr
  | ParallelExpr
  | ErrorExpr;

export interface NumberLiteral {
  kind: "Number";
  span: Span;
  value: number;
}

/** A string with no interpolation (escapes already decoded). */
export interface StringLiteral {
  kind: "String";
  span: Span;
  value: string;
}

/**
 * `"a ${x} b"`: alternating literal text and expressions. `parts` never holds two strings in a
 * row; a string with no `${` is a StringLiteral instead. Triple-quoted strings interpolate too.
 */
export interface TemplateString {
  kind: "Template";
  span: Span;
  parts: (string | Expr)[];
}

export interface BoolLiteral {
  kind: "Bool";
  span: Span;
  value: boolean;
}
export interface NullLiteral {
  kind: "Null";
  span: Span;
}

/** `1h30m` → 5400000: the value in milliseconds, summed from its parts. */
export interface DurationLiteral {
  kind: "Duration";
  span: Span;
  milliseconds: number;
}

export interface ListLiteral {
  kind: "List";
  span: Span;
  elements: Expr[];
}

/** `{ region: "eu", "odd key": 1 }`: keys are identifiers or string literals, kept as text. */
export interface MapLiteral {
  kind: "Map";
  span: Span;
  entries: { key: string; keySpan: Span; value: Expr }[];
}

/** A reference to a local, a parameter, or (as a call's callee / member object) a `use` alias. */
export interface NameExpr {
  kind: "Name";
  span: Span;
  name: string;
}

/** `a.f` or `a?.f` */
export interface MemberExpr {
  kind: "Member";
  span: Span;
  object: Expr;
  property: Identifier;
  optional: boolean;
}

/** `a[i]` */
export interface IndexExpr {
  kind: "Index";
  span: Span;
  object: Expr;
  index: Expr;
}

/**
 * `f(args)` or `alias.fn(args)`. The callee is a `NameExpr` (a runbook of the project or a
 * built-in function/activity) or a `MemberExpr` on a `use` alias (an activity). Positional
 * arguments come first, then named ones; the parser reports a positional after a named one.
 */
export interface CallExpr {
  kind: "Call";
  span: Span;
  callee: NameExpr | MemberExpr;
  args: Argument[];
}
export interface Argument {
  span: Span;
  /** Absent for a positional argument. */
  name: Identifier | undefined;
  value: Expr;
}

export interface UnaryExpr {
  kind: "Unary";
  span: Span;
  operator: "-" | "not";
  operand: Expr;
}

export type BinaryOperator =
  | "??"
  | "or"
  | "and"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | ".."
  | "+"
  | "-"
  | "*"
  | "/"
  | "%";

export interface BinaryExpr {
  kind: "Binary";
  span: Span;
  operator: BinaryOperator;
  left: Expr;
  right: Expr;
}

/** `wait "NAME" (timeout e)?`: the signal name is a plain string literal. */
export interface WaitExpr {
  kind: "Wait";
  span: Span;
  signal: StringLiteral;
  timeout: Expr | undefined;
}

/** `start NAME(args)`: queues another runbook as its own job; the value is its job id. */
export interface StartExpr {
  kind: "Start";
  span: Span;
  call: CallExpr;
}

/** `await e` (e: a job id string) */
export interface AwaitExpr {
  kind: "Await";
  span: Span;
  job: Expr;
}

/**
 * `parallel for x in e (limit: n, on_error: "stop"|"continue") { body }`: the body runs once per
 * element as a branch job (docs/language.md, "Parallel branches"). `names` and `iterable` as in
 * `for`. The body is checked and compiled as a runbook of its own (compiler/check-parallel.ts).
 */
export interface ParallelExpr {
  kind: "Parallel";
  span: Span;
  names: [Identifier] | [Identifier, Identifier];
  iterable: Expr;
  limit: Expr | undefined;
  onError: StringLiteral | undefined;
  body: Block;
  /**
   * Filled by the checker (the one fact it writes into the tree, because every later walk of
   * the enclosing runbook must see these reads): the enclosing locals the body reads, one name
   * each, in first-use order; they travel to each branch as its parameters.
   */
  captures?: NameExpr[];
  /** Filled by the checker: the name of the branch runbook the body became. */
  branch?: string;
}

/** Stands where the parser could not read an expression; its diagnostic is already reported. */
export interface ErrorExpr {
  kind: "ErrorExpr";
  span: Span;
}

export type Node =
  | SourceFileNode
  | UseDecl
  | RunbookDecl
  | Param
  | Identifier
  | TypeNode
  | Block
  | Stmt
  | Expr;
