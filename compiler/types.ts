// Static types of the runbook language as data. The checker (compiler/checker.ts) computes them;
// activity declarations (compiler/activities.ts) are mapped into them from TypeScript; the
// runtime validates job parameters against them (they are JSON, stored in ParamInfo.typeData).
//
// `error` is the type of an expression that already has a diagnostic: it is compatible with
// everything, so one mistake is reported once, not at every use.

export type Type =
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "bool" }
  | { kind: "duration" }
  | { kind: "time" }
  | { kind: "null" }
  | { kind: "any" }
  | { kind: "list"; element: Type }
  | { kind: "map"; value: Type }
  | { kind: "record"; fields: { [name: string]: Type } }
  | { kind: "optional"; inner: Type }
  | { kind: "error" };
