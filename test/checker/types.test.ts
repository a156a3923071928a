import { describe, expect, it } from "vitest";
import {
  T,
  binaryType,
  describeType,
  isAssignable,
  join,
  joinAll,
  typeFromNode,
  typeToString,
  unaryType,
  validateValue,
  type Type,
} from "../../compiler/types.js";
import type { Span, TypeNode } from "../../grammar/ast.js";

const span: Span = { file: "x.runbook", start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
const named = (name: string): TypeNode => ({ kind: "NamedType", span, name });

describe("typeToString", () => {
  it("prints types as authors write them", () => {
    expect(typeToString(T.list(T.string))).toBe("list<string>");
    expect(typeToString(T.optional(T.map(T.number)))).toBe("map<number>?");
    expect(typeToString(T.record({ name: T.string, "odd key": T.optional(T.duration) }))).toBe('{name: string, "odd key": duration?}');
  });
});

describe("typeFromNode", () => {
  it("maps annotations and reports unknown names once", () => {
    const unknown: string[] = [];
    const node: TypeNode = {
      kind: "OptionalType",
      span,
      inner: { kind: "ListType", span, element: { kind: "RecordType", span, fields: [{ name: { kind: "Identifier", span, name: "a" }, type: named("strng") }] } },
    };
    const t = typeFromNode(node, (n) => unknown.push(n));
    expect(unknown).toEqual(["strng"]);
    expect(t).toEqual(T.optional(T.list(T.record({ a: T.error }))));
    expect(typeFromNode(named("duration"), () => {})).toEqual(T.duration);
  });
});

describe("isAssignable", () => {
  const cases: [Type, Type, boolean][] = [
    [T.number, T.number, true],
    [T.number, T.string, false],
    [T.number, T.duration, false],
    [T.null, T.optional(T.string), true],
    [T.string, T.optional(T.string), true],
    [T.optional(T.string), T.string, false],
    [T.any, T.string, true],
    [T.string, T.any, true],
    [T.error, T.list(T.number), true],
    [T.list(T.number), T.list(T.optional(T.number)), true],
    [T.list(T.number), T.list(T.string), false],
    [T.record({ a: T.number, b: T.string }), T.record({ a: T.number }), true],
    [T.record({ a: T.number }), T.record({ a: T.number, b: T.string }), false],
    [T.record({ a: T.number }), T.record({ a: T.number, b: T.optional(T.string) }), true],
    [T.record({ a: T.number, b: T.number }), T.map(T.number), true],
    [T.record({ a: T.number, b: T.string }), T.map(T.number), false],
    [T.map(T.number), T.record({ a: T.number }), false],
    [T.null, T.string, false],
  ];
  it.each(cases)("%j → %j is %s", (from, to, ok) => expect(isAssignable(from, to)).toBe(ok));
});

describe("join", () => {
  it("joins what list literals mix", () => {
    expect(join(T.number, T.null)).toEqual(T.optional(T.number));
    expect(join(T.number, T.string)).toBeUndefined();
    expect(join(T.record({ a: T.number, b: T.string }), T.record({ a: T.number }))).toEqual(T.record({ a: T.number, b: T.optional(T.string) }));
    expect(join(T.record({ a: T.number }), T.map(T.number))).toEqual(T.map(T.number));
    expect(joinAll([T.list(T.number), T.list(T.any)])).toEqual(T.list(T.any));
    expect(joinAll([])).toEqual(T.any);
  });
});

describe("operators", () => {
  it("types the operators of the BRIEF", () => {
    expect(binaryType("+", T.number, T.number)).toEqual(T.number);
    expect(binaryType("+", T.string, T.string)).toEqual(T.string);
    expect(binaryType("+", T.list(T.number), T.list(T.number))).toEqual(T.list(T.number));
    expect(binaryType("+", T.time, T.duration)).toEqual(T.time);
    expect(binaryType("+", T.string, T.number)).toBeUndefined();
    expect(binaryType("-", T.time, T.time)).toEqual(T.duration);
    expect(binaryType("-", T.time, T.duration)).toEqual(T.time);
    expect(binaryType("*", T.number, T.duration)).toEqual(T.duration);
    expect(binaryType("/", T.duration, T.duration)).toEqual(T.number);
    expect(binaryType("/", T.duration, T.number)).toEqual(T.duration);
    expect(binaryType("/", T.number, T.duration)).toBeUndefined();
    expect(binaryType("%", T.duration, T.number)).toBeUndefined();
    expect(binaryType("<", T.time, T.time)).toEqual(T.bool);
    expect(binaryType("<", T.number, T.string)).toBeUndefined();
    expect(binaryType("..", T.number, T.number)).toEqual(T.list(T.number));
    expect(binaryType("and", T.bool, T.number)).toBeUndefined();
    expect(binaryType("+", T.any, T.number)).toEqual(T.any);
    expect(binaryType("+", T.optional(T.number), T.number)).toBeUndefined();
    expect(unaryType("-", T.duration)).toEqual(T.duration);
    expect(unaryType("-", T.string)).toBeUndefined();
    expect(unaryType("not", T.bool)).toEqual(T.bool);
  });
});

describe("validateValue", () => {
  it("accepts values of the type", () => {
    expect(validateValue(3, T.number)).toBeNull();
    expect(validateValue(null, T.optional(T.string))).toBeNull();
    expect(validateValue(["a"], T.list(T.string))).toBeNull();
    expect(validateValue({ a: 1, extra: "x" }, T.record({ a: T.number, b: T.optional(T.string) }))).toBeNull();
    expect(validateValue(120000, T.duration)).toBeNull();
    expect(validateValue("2026-01-01T00:00:00Z", T.time)).toBeNull();
    expect(validateValue({ x: [1, { y: null }] }, T.any)).toBeNull();
  });
  it("says where and what is wrong", () => {
    expect(validateValue("3", T.number)).toBe('expected number, got string "3"');
    expect(validateValue(["a", 2], T.list(T.string))).toBe("[1]: expected string, got number 2");
    expect(validateValue({ hosts: [{ name: 5 }] }, T.record({ hosts: T.list(T.record({ name: T.string })) }))).toBe(
      "hosts[0].name: expected string, got number 5",
    );
    expect(validateValue({}, T.record({ a: T.number }))).toBe("a: missing field of type number");
    expect(validateValue(-1, T.duration)).toMatch(/expected duration/);
    expect(validateValue("yesterday", T.time)).toMatch(/expected time/);
    expect(validateValue(Number.NaN, T.number)).toMatch(/expected number/);
    expect(validateValue(undefined, T.string)).toBe("expected string, got nothing");
    expect(validateValue(new Date(), T.any)).toMatch(/expected a JSON value/);
  });
});

describe("describeType", () => {
  it("shortens records with many fields for diagnostics, and leaves small types whole", () => {
    const big = T.record({ a: T.string, b: T.number, c: T.bool, d: T.any, e: T.string, f: T.string });
    expect(describeType(big)).toBe("{a: string, b: number, c: bool, d: any, …2 more}");
    expect(describeType(T.list(T.optional(big)))).toBe("list<{a: string, b: number, c: bool, d: any, …2 more}?>");
    expect(describeType(T.record({ id: T.string }))).toBe("{id: string}");
    expect(typeToString(big)).toBe("{a: string, b: number, c: bool, d: any, e: string, f: string}");
  });
});
