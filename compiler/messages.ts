// The checker's diagnostic codes and message texts: one registry, so a code never changes
// meaning and `docs/diagnostics.md` and the golden tests can list them all.
//   RB2xxx  names, types, control flow, calls      RB3xxx  activities and `use` modules
//   RB9xxx  input problems (unreadable, binary or huge files)
// Names in messages are in backticks; types are printed by typeToString.
import type { Span } from "../grammar/ast.js";
import type { Diagnostic, Severity } from "../grammar/diagnostic.js";

export interface MessageDef<A extends unknown[]> {
  code: string;
  severity: Severity;
  text: (...args: A) => string;
}

function def<A extends unknown[]>(code: string, severity: Severity, text: (...args: A) => string): MessageDef<A> {
  return { code, severity, text };
}

const q = (s: string) => `\`${s}\``;
const list = (names: string[]) => names.map(q).join(", ");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export const M = {
  // Names and scopes
  undefinedName: def("RB2001", "error", (name: string) => `${q(name)} is not defined`),
  redeclared: def("RB2002", "error", (name: string) => `${q(name)} is already declared in this block`),
  unknownType: def("RB2003", "error", (name: string) => `unknown type ${q(name)}`),
  notAValue: def("RB2039", "error", (name: string, what: string) => `${q(name)} is ${what}, not a value`),
  unusedLocal: def("RB2024", "warning", (name: string) => `${q(name)} is never used`),

  // Types of statements
  letMismatch: def("RB2004", "error", (name: string, got: string, want: string) => `${q(name)} is declared as ${want} but the value is ${got}`),
  assignMismatch: def("RB2005", "error", (target: string, got: string, want: string) => `cannot assign ${got} to ${q(target)} of type ${want}`),
  conditionNotBool: def("RB2006", "error", (stmt: string, got: string) => `the condition of ${q(stmt)} must be bool, got ${got}`),
  invalidAssignTarget: def("RB2038", "error", (why: string) => `cannot assign here: ${why}`),
  sleepNotDuration: def("RB2031", "error", (got: string) => `${q("sleep")} needs a duration, got ${got}`),
  waitTimeoutNotDuration: def("RB2032", "error", (got: string) => `the timeout of ${q("wait")} must be a duration, got ${got}`),
  retryOption: def("RB2033", "error", (option: string, want: string, got: string) => `retry option ${q(option)} must be ${want}, got ${got}`),
  notIterable: def("RB2034", "error", (got: string) => `cannot iterate over ${got}; ${q("for")} takes a list, a range or a map`),
  parallelLimit: def("RB2056", "error", (got: string) => `the ${q("limit")} of ${q("parallel for")} must be a number, got ${got}`),
  assignCaptured: def("RB2057", "error", (name: string) => `cannot assign ${q(name)} inside ${q("parallel for")}: it is a local of the enclosing runbook`),
  awaitNotString: def("RB2043", "error", (got: string) => `${q("await")} needs a job id (string), got ${got}`),
  notString: def("RB2044", "error", (what: string, got: string) => `${what} must be a string, got ${got}`),
  exprStatement: def("RB2046", "error", () => `this value is not used; only calls, ${q("wait")}, ${q("await")} and ${q("start")} may stand as statements`),

  // Control flow
  breakOutsideLoop: def("RB2007", "error", () => `${q("break")} outside a loop`),
  continueOutsideLoop: def("RB2008", "error", () => `${q("continue")} outside a loop`),
  unreachable: def("RB2023", "warning", () => `unreachable statement`),

  // Results
  returnMismatch: def("RB2009", "error", (runbook: string, got: string, want: string) => `runbook ${q(runbook)} returns ${want}, but this value is ${got}`),
  returnWithoutResultType: def("RB2010", "error", (runbook: string) => `runbook ${q(runbook)} declares no result type, so ${q("return")} cannot take a value`),
  returnWithoutValue: def("RB2011", "error", (runbook: string, want: string) => `runbook ${q(runbook)} returns ${want}; this ${q("return")} needs a value`),
  missingReturn: def("RB2012", "error", (runbook: string, want: string) => `runbook ${q(runbook)} can reach its end without returning ${want}`),

  // Calls
  unknownCallee: def("RB2013", "error", (name: string) => `no runbook or built-in function named ${q(name)}`),
  tooManyArgs: def("RB2014", "error", (callee: string, max: number, got: number) => `${q(callee)} takes ${plural(max, "argument")}, got ${got}`),
  unknownNamedArg: def("RB2015", "error", (callee: string, arg: string) => `${q(callee)} has no parameter named ${q(arg)}`),
  duplicateArg: def("RB2016", "error", (callee: string, param: string) => `argument ${q(param)} of ${q(callee)} is given twice`),
  missingArgs: def("RB2017", "error", (callee: string, names: string[]) => `missing ${names.length === 1 ? "argument" : "arguments"} ${list(names)} in the call of ${q(callee)}`),
  argMismatch: def("RB2018", "error", (callee: string, param: string, got: string, want: string) => `argument ${q(param)} of ${q(callee)} must be ${want}, got ${got}`),
  callCycle: def("RB2019", "error", (path: string[]) => `inline calls form a cycle: ${path.join(" -> ")}`),
  suspendingCallNested: def("RB2022", "error", (what: string) => `${what} can suspend the job, so it must stand alone: as a statement, the whole right side of ${q("let")} or an assignment, or the value of ${q("return")}`),
  builtinArity: def("RB2029", "error", (fn: string, expected: string, got: number) => `${q(fn)} takes ${expected}, got ${got}`),
  builtinArgType: def("RB2028", "error", (fn: string, position: number, want: string, got: string) => `argument ${position} of ${q(fn)} must be ${want}, got ${got}`),
  namedArgToBuiltin: def("RB2030", "error", (fn: string) => `${q(fn)} is a built-in function and takes positional arguments only`),
  notCallable: def("RB2040", "error", (name: string) => `${q(name)} is a local, not a runbook or function`),
  memberCallNotAlias: def("RB2041", "error", () => `only functions of a ${q("use")} module can be called as ${q("alias.fn(...)")}`),
  startNotRunbook: def("RB2042", "error", (name: string) => `${q("start")} needs a runbook of the project; ${q(name)} is not one`),
  badDefault: def("RB2048", "error", (param: string) => `the default of ${q(param)} may only use literals, operators and built-in functions`),
  defaultMismatch: def("RB2049", "error", (param: string, got: string, want: string) => `the default of ${q(param)} is ${got}, but the parameter is ${want}`),

  // Expressions
  binaryOperands: def("RB2025", "error", (op: string, left: string, right: string) => `operator ${q(op)} cannot be applied to ${left} and ${right}`),
  unaryOperand: def("RB2026", "error", (op: string, got: string) => `operator ${q(op)} cannot be applied to ${got}`),
  neverEqual: def("RB2027", "error", (left: string, right: string) => `${left} and ${right} can never be equal`),
  noMember: def("RB2035", "error", (type: string, name: string, subject?: string) =>
    subject === undefined ? `${type} has no field ${q(name)}` : `${q(subject)} has no field ${q(name)}; its type is ${type}`),
  notIndexable: def("RB2036", "error", (type: string) => `cannot index ${type}`),
  indexType: def("RB2037", "error", (container: string, want: string, got: string) => `${container} index must be ${want}, got ${got}`),
  listElements: def("RB2045", "error", (a: string, b: string) => `list elements have incompatible types ${a} and ${b}`),
  nullishNeverNull: def("RB2047", "warning", (type: string) => `the left side of ${q("??")} is never null (it is ${type})`),
  extraField: def("RB2051", "error", (name: string, type: string) => `field ${q(name)} is not in ${type}`),
  duplicateKey: def("RB2052", "error", (key: string) => `key ${q(key)} appears twice in this map`),
  elementMismatch: def("RB2053", "error", (want: string, got: string) => `list element must be ${want}, got ${got}`),
  fieldMismatch: def("RB2054", "error", (field: string, want: string, got: string) => `field ${q(field)} must be ${want}, got ${got}`),
  missingFields: def("RB2055", "error", (names: string[], type: string) => `missing ${names.length === 1 ? "field" : "fields"} ${list(names)} of ${type}`),

  // The project
  nameMismatch: def("RB2020", "error", (name: string, file: string) => `runbook ${q(name)} is in file ${q(file)}; the file name must be ${q(`${name}.runbook`)}`),
  duplicateRunbook: def("RB2021", "error", (name: string) => `runbook ${q(name)} is declared twice in the project`),
  runbookNameIsBuiltin: def("RB2050", "error", (name: string) => `runbook name ${q(name)} is the name of a built-in function`),

  // The header's `concurrency (key: EXPR, limit: N)` (compiler/placement.ts)
  keyNotParameters: def("RB2070", "error", (what: string) => `a concurrency key is computed from the job's parameters when it is queued: ${what}`),
  keyType: def("RB2071", "error", (type: string) => `a concurrency key must be a string, number or bool, not ${type}`),
  badLimit: def("RB2072", "error", () => "the concurrency limit must be a whole number from 1 to 10000, written as a number"),

  // Activities and `use` modules
  moduleError: def("RB3001", "error", (path: string, error: string) => `cannot use ${q(path)}: ${error}`),
  unknownActivity: def("RB3002", "error", (alias: string, fn: string) => `module ${q(alias)} has no exported function ${q(fn)}`),
  // The activities loader words these (they name the offending part of the TypeScript type).
  unserializable: def("RB3003", "error", (message: string) => message),
  unsupportedParam: def("RB3007", "error", (message: string) => message),
  aliasAsValue: def("RB3004", "error", (alias: string) => `${q(alias)} is a module alias, not a value`),
  duplicateAlias: def("RB3005", "error", (alias: string) => `module alias ${q(alias)} is already used in this file`),
  unusedAlias: def("RB3006", "warning", (alias: string) => `module ${q(alias)} is never used`),

  // Input problems
  unreadable: def("RB9001", "error", (reason: string) => `cannot read this file: ${reason}`),
  binaryFile: def("RB9002", "error", () => `this is not a UTF-8 text file`),
  tooLarge: def("RB9003", "error", (size: string, limit: string) => `this file is too large (${size}; the limit is ${limit})`),
} as const;

/** Every message definition, for tests and docs. */
export const ALL_MESSAGES: MessageDef<never[]>[] = Object.values(M) as unknown as MessageDef<never[]>[];

export interface Extra {
  hint?: string;
  related?: { message: string; span: Span }[];
}

/** Build a diagnostic from a registered message. */
export function diag<A extends unknown[]>(m: MessageDef<A>, span: Span, args: A, extra: Extra = {}): Diagnostic {
  const d: Diagnostic = { severity: m.severity, code: m.code, message: m.text(...args), span };
  if (extra.hint) d.hint = extra.hint;
  if (extra.related?.length) d.related = extra.related;
  return d;
}
