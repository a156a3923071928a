// The Ops helpers: operators, built-ins, JSON checks and error records, per the BRIEF's
// language decisions.
import { describe, expect, it } from "vitest";
import { RunbookFault, type Json } from "../../runtime/abi.js";
import { createOps, JobAbort, ops, RaisedError, raisedAt } from "../../runtime/values.js";

function faultOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RunbookFault);
    return (e as RunbookFault).message;
  }
  throw new Error("expected a fault");
}

const T = "2026-03-01T10:00:00.000Z";

describe("arithmetic", () => {
  it("adds numbers, strings, lists, durations and time + duration", () => {
    expect(ops.add(1, 2)).toBe(3);
    expect(ops.add("a", "b")).toBe("ab");
    expect(ops.add([1], [2, [3]])).toEqual([1, 2, [3]]);
    expect(ops.add(T, 90_000)).toBe("2026-03-01T10:01:30.000Z");
    expect(ops.add(60_000, T)).toBe("2026-03-01T10:01:00.000Z");
  });
  it("subtracts numbers, time - duration and time - time", () => {
    expect(ops.sub(5, 7)).toBe(-2);
    expect(ops.sub(T, 3_600_000)).toBe("2026-03-01T09:00:00.000Z");
    expect(ops.sub("2026-03-01T10:00:02.500Z", T)).toBe(2500);
  });
  it("multiplies, divides and takes remainders of numbers", () => {
    expect(ops.mul(3, 4)).toBe(12);
    expect(ops.div(7, 2)).toBe(3.5);
    expect(ops.mod(7, 3)).toBe(1);
    expect(ops.neg(4)).toBe(-4);
    expect(Object.is(ops.neg(0), 0)).toBe(true);
  });
  it("faults on division by zero and non-finite results", () => {
    expect(faultOf(() => ops.div(1, 0))).toBe("division by zero");
    expect(faultOf(() => ops.mod(1, 0))).toBe("remainder of a division by zero");
    expect(faultOf(() => ops.mul(1e308, 10))).toBe("the product is not a finite number");
    expect(faultOf(() => ops.add(1e308, 1e308))).toBe("the sum is not a finite number");
  });
  it("faults on operands of the wrong kinds", () => {
    expect(faultOf(() => ops.add("a", 1))).toBe("cannot add a number to a string");
    expect(faultOf(() => ops.add(null, [1]))).toBe("cannot add a list to null");
    expect(faultOf(() => ops.sub("x", "y"))).toBe("cannot subtract a string from a string");
    expect(faultOf(() => ops.mul("2", 3))).toBe("cannot multiply a string and a number");
    expect(faultOf(() => ops.neg("1"))).toBe("cannot negate a string");
    expect(faultOf(() => ops.add(T, 1e20))).toBe("the time is out of range");
  });
});

describe("comparison and equality", () => {
  it("orders numbers and strings (times as ISO strings)", () => {
    expect(ops.lt(1, 2)).toBe(true);
    expect(ops.le(2, 2)).toBe(true);
    expect(ops.gt("b", "a")).toBe(true);
    expect(ops.ge(T, "2026-03-01T11:00:00.000Z")).toBe(false);
    expect(faultOf(() => ops.lt(1, "2"))).toBe("cannot compare a number < a string");
    expect(ops.lt("2026-01-01T00:00:00.500Z", "2026-01-01T00:00:01Z")).toBe(true);
    expect(ops.ge("2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00.000Z")).toBe(true);
    expect(ops.lt("a10", "a9")).toBe(true);
  });
  it("compares structurally, maps regardless of key order", () => {
    expect(ops.eq({ a: [1, { b: null }], c: "x" }, { c: "x", a: [1, { b: null }] })).toBe(true);
    expect(ops.eq([1, 2], [2, 1])).toBe(false);
    expect(ops.eq({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(ops.eq([], {})).toBe(false);
    expect(ops.eq(null, 0)).toBe(false);
    expect(ops.eq("1", 1)).toBe(false);
  });
  it("demands a bool for a condition", () => {
    expect(ops.bool(true)).toBe(true);
    expect(faultOf(() => ops.bool(null))).toBe("a condition must be a bool, not null");
    expect(faultOf(() => ops.bool(1))).toBe("a condition must be a bool, not a number");
  });
});

describe("ranges", () => {
  it("a..b is inclusive, range() half-open", () => {
    expect(ops.range(1, 4)).toEqual([1, 2, 3, 4]);
    expect(ops.range(3, 2)).toEqual([]);
    expect(ops.builtin("range", [3])).toEqual([0, 1, 2]);
    expect(ops.builtin("range", [2, 5])).toEqual([2, 3, 4]);
  });
  it("faults on non-integer or huge ranges", () => {
    expect(faultOf(() => ops.range(0.5, 2))).toBe("the start of a range 0.5 is not an integer");
    expect(faultOf(() => ops.range(0, 1e12))).toMatch(/is too large/);
  });
});

describe("member, index, setPath", () => {
  const v: Json = { region: "eu", hosts: ["a", "b", "c"], meta: { n: 1 } };
  it("reads members and indexes", () => {
    expect(ops.member(v, "region")).toBe("eu");
    expect(ops.index(ops.member(v, "hosts"), 2)).toBe("c");
    expect(ops.index(v, "meta")).toEqual({ n: 1 });
    expect(ops.optMember(null, "x")).toBe(null);
    expect(ops.optMember(v, "regoin")).toBe(null);
  });
  it("faults with one clear sentence", () => {
    expect(faultOf(() => ops.member(v, "regoin"))).toBe('map has no key "regoin"');
    expect(faultOf(() => ops.member(null, "a"))).toBe("cannot read .a of null");
    expect(faultOf(() => ops.index(["a", "b", "c"], 5))).toBe("index 5 is out of range for a list of 3");
    expect(faultOf(() => ops.index(["a"], -1))).toBe("index -1 is out of range for a list of 1");
    expect(faultOf(() => ops.index(["a"], 0.5))).toBe("index 0.5 is not an integer");
    expect(faultOf(() => ops.index(["a"], "0"))).toBe("a list index must be a number, not a string");
    expect(faultOf(() => ops.index({}, "k"))).toBe('map has no key "k"');
    expect(faultOf(() => ops.index("abc", 0))).toBe("cannot index a string");
    expect(faultOf(() => ops.optMember(3, "a"))).toBe("cannot read ?.a of a number");
  });
  it("setPath is persistent: the original is untouched, unchanged branches are shared", () => {
    const a: Json = { x: [1, { y: 2 }], z: { w: 3 } };
    const before = JSON.stringify(a);
    const b = ops.setPath(a, ["x", 1, "y"], 9) as { x: Json[]; z: Json };
    expect(JSON.stringify(a)).toBe(before);
    expect(b).toEqual({ x: [1, { y: 9 }], z: { w: 3 } });
    expect(b.z).toBe((a as { z: Json }).z);
    expect(ops.setPath({ a: 1 }, ["b"], 2)).toEqual({ a: 1, b: 2 });
    expect(ops.setPath([1, 2], [], "r")).toBe("r");
  });
  it("setPath faults on a bad path", () => {
    expect(faultOf(() => ops.setPath([1, 2], [2], 0))).toBe("index 2 is out of range for a list of 2");
    expect(faultOf(() => ops.setPath({}, ["a", "b"], 0))).toBe('map has no key "a"');
    expect(faultOf(() => ops.setPath({ a: null }, ["a", "b"], 0))).toBe("cannot set .b of null");
    expect(faultOf(() => ops.setPath({ a: 1 }, ["a", 0], 0))).toBe("cannot set [0] of a number");
  });
});

describe("str, iter, entries", () => {
  it("str gives strings as they are, others as JSON", () => {
    expect(ops.str("a b")).toBe("a b");
    expect(ops.str([1, 2])).toBe("[1,2]");
    expect(ops.str(null)).toBe("null");
    expect(ops.str({ a: "x" })).toBe('{"a":"x"}');
  });
  it("iterates lists (as a snapshot) and map keys; entries give pairs", () => {
    const l: Json[] = [1, 2];
    const it1 = ops.iter(l);
    l.push(3);
    expect(it1).toEqual([1, 2]);
    expect(ops.iter({ b: 1, a: 2 })).toEqual(["b", "a"]);
    expect(ops.entries(["x", "y"])).toEqual([[0, "x"], [1, "y"]]);
    expect(ops.entries({ k: 1 })).toEqual([["k", 1]]);
    expect(faultOf(() => ops.iter("abc"))).toBe("cannot iterate over a string");
    expect(faultOf(() => ops.entries(null))).toBe("cannot iterate over null");
  });
});

describe("built-in functions", () => {
  const b = (name: string, ...args: Json[]) => ops.builtin(name, args);
  it("work as documented", () => {
    expect(b("len", "abc")).toBe(3);
    expect(b("len", [1, 2])).toBe(2);
    expect(b("len", { a: 1 })).toBe(1);
    expect(b("str", 1.5)).toBe("1.5");
    expect(b("num", " 42 ")).toBe(42);
    expect(b("num", 3)).toBe(3);
    expect(b("int", -3.7)).toBe(-3);
    expect(b("int", "9.9")).toBe(9);
    expect(Object.is(b("int", -0.5), 0)).toBe(true);
    expect(b("keys", { a: 1, b: 2 })).toEqual(["a", "b"]);
    expect(b("values", { a: 1, b: 2 })).toEqual([1, 2]);
    expect(b("contains", [1, [2]], [2])).toBe(true);
    expect(b("contains", "hello", "ell")).toBe(true);
    expect(b("contains", { k: 1 }, "k")).toBe(true);
    expect(b("contains", { k: 1 }, "v")).toBe(false);
    expect(b("split", "a,b,,c", ",")).toEqual(["a", "b", "", "c"]);
    expect(b("join", ["a", 1, null], "-")).toBe("a-1-null");
    expect(b("trim", "  x ")).toBe("x");
    expect(b("upper", "ab")).toBe("AB");
    expect(b("lower", "AB")).toBe("ab");
    expect(b("replace", "a.b.c", ".", "/")).toBe("a/b/c");
    expect(b("starts_with", "prod-1", "prod")).toBe(true);
    expect(b("ends_with", "prod-1", "-2")).toBe(false);
    expect(b("min", 3, 1, 2)).toBe(1);
    expect(b("max", [3, 1, 2])).toBe(3);
    expect(b("max", 5)).toBe(5);
    expect(b("json_parse", '{"a":[1]}')).toEqual({ a: [1] });
    expect(b("json_string", { a: [1] })).toBe('{"a":[1]}');
    expect(b("time", "2026-01-01T01:00:00+01:00")).toBe("2026-01-01T00:00:00.000Z");
  });
  it("fault on bad arguments with the function's name", () => {
    expect(faultOf(() => b("num", "abc"))).toBe('num: "abc" is not a number');
    expect(faultOf(() => b("num", ""))).toBe('num: "" is not a number');
    expect(faultOf(() => b("len", 3))).toBe("len: cannot take the length of a number");
    expect(faultOf(() => b("min"))).toBe("min() takes at least 1 argument, got 0");
    expect(faultOf(() => b("min", []))).toBe("min of an empty list");
    expect(faultOf(() => b("max", 1, "2"))).toBe("max: expected numbers or durations, got a string");
    expect(faultOf(() => b("json_parse", "{"))).toMatch(/^json_parse: not valid JSON/);
    expect(faultOf(() => b("time", "yesterday"))).toMatch(/^time: "yesterday" is not a time/);
    expect(faultOf(() => b("split", "a", 1))).toBe("split: the separator must be a string, not a number");
    expect(faultOf(() => b("len", "a", "b"))).toBe("len() takes 1 argument, got 2");
    expect(faultOf(() => b("nope"))).toBe("there is no built-in function nope()");
  });
  it("now() and uuid() come from the environment", () => {
    const env = createOps({ now: () => Date.parse("2026-01-01T00:00:00Z"), uuid: () => "u-1" });
    expect(env.builtin("now", [])).toBe("2026-01-01T00:00:00.000Z");
    expect(env.builtin("uuid", [])).toBe("u-1");
    expect(ops.builtin("uuid", [])).toMatch(/^[0-9a-f-]{36}$/);
    expect(ops.builtin("now", [])).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe("json (values from outside)", () => {
  it("accepts plain JSON", () => {
    const v = { a: [1, "x", null, true, { b: [] }] };
    expect(ops.json(v, "result")).toBe(v);
  });
  it("rejects what is not JSON, naming the path", () => {
    expect(faultOf(() => ops.json({ created: new Date() }, "result"))).toBe("result.created is a Date, not JSON");
    expect(faultOf(() => ops.json({ a: [1, undefined] }, "result"))).toBe("result.a[1] is undefined");
    expect(faultOf(() => ops.json(undefined, "result"))).toBe("result is undefined");
    expect(faultOf(() => ops.json({ f: () => 1 }, "result"))).toBe("result.f is a function, not JSON");
    expect(faultOf(() => ops.json({ m: new Map() }, "result"))).toBe("result.m is a Map, not JSON");
    expect(faultOf(() => ops.json([new Set()], "result"))).toBe("result[0] is a Set, not JSON");
    expect(faultOf(() => ops.json({ n: 10n }, "result"))).toBe("result.n is a bigint, not JSON");
    expect(faultOf(() => ops.json({ n: NaN }, "result"))).toBe("result.n is NaN, not a finite number");
    expect(faultOf(() => ops.json({ "odd key": Infinity }, "result"))).toBe('result["odd key"] is Infinity, not a finite number');
    class Vm {}
    expect(faultOf(() => ops.json({ vm: new Vm() }, "result"))).toBe("result.vm is a Vm, not JSON");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(faultOf(() => ops.json(cyclic, "result"))).toBe("result.self refers back to itself (a cycle), not JSON");
  });
  it("accepts a value shared twice that is not a cycle", () => {
    const shared = { x: 1 };
    expect(ops.json({ a: shared, b: [shared] }, "result")).toEqual({ a: { x: 1 }, b: [{ x: 1 }] });
    expect(ops.json(Object.create(null), "result")).toEqual({});
  });
});

describe("fail and fault", () => {
  it("fail raises str(e); a non-string value is the error's data", () => {
    expect(faultOf(() => ops.fail("disk full"))).toBe("disk full");
    try {
      ops.fail({ code: 3 });
    } catch (e) {
      expect((e as RunbookFault).message).toBe('{"code":3}');
      expect((e as RunbookFault).data).toEqual({ code: 3 });
    }
  });
  it("turns anything thrown into an ErrorRecord at the position", () => {
    const at = ["deploy", "deploy.runbook", 4, 7] as const;
    expect(ops.fault(new RunbookFault("bad", { x: 1 }), ...at)).toEqual({ message: "bad", runbook: "deploy", file: "deploy.runbook", line: 4, column: 7, data: { x: 1 } });
    expect(ops.fault(new Error("ECONNREFUSED"), ...at).message).toBe("ECONNREFUSED");
    expect(ops.fault("text", ...at).message).toBe("text");
    expect(ops.fault(42, ...at).message).toBe("a number was thrown");
    const callee = { message: "inner", runbook: "child", file: "child.runbook", line: 2, column: 3, data: null };
    expect(ops.fault(callee, ...at)).toBe(callee);
    expect(ops.fault(new RaisedError(callee), ...at)).toBe(callee);
  });
});

describe("error positions", () => {
  const thrown = (f: () => unknown): unknown => {
    try {
      f();
    } catch (e) {
      return e;
    }
    throw new Error("expected a throw");
  };
  const record = (f: () => unknown) => ops.fault(thrown(f), "r", "r.runbook", 1, 1);
  it("a helper's fault carries the position passed to it, not the fallback", () => {
    expect(record(() => ops.index([1], 5, 3, 9))).toMatchObject({ message: "index 5 is out of range for a list of 1", line: 3, column: 9 });
    expect(record(() => ops.div(1, 0, 4, 12))).toMatchObject({ message: "division by zero", line: 4, column: 12 });
    expect(record(() => ops.lt(1, "a", 5, 2))).toMatchObject({ message: "cannot compare a number < a string", line: 5, column: 2 });
    expect(record(() => ops.bool(1, 6, 4))).toMatchObject({ line: 6, column: 4 });
    expect(record(() => ops.builtin("num", ["x"], 7, 8))).toMatchObject({ message: 'num: "x" is not a number', line: 7, column: 8 });
    expect(record(() => ops.fail("boom", 8, 5))).toMatchObject({ message: "boom", line: 8, column: 5 });
    expect(record(() => ops.setPath({ a: 1 }, ["b", "c"], 2, 9, 3))).toMatchObject({ line: 9, column: 3 });
  });
  it("without a position (code compiled before positions were passed) the fallback places it", () => {
    expect(record(() => ops.index([1], 5))).toMatchObject({ line: 1, column: 1 });
  });
  it("the first position given wins: an enclosing call does not move an inner fault", () => {
    const inner = thrown(() => ops.index([1], 5, 3, 9));
    expect(ops.fault(raisedAt(inner, 2, 2), "r", "r.runbook", 1, 1)).toMatchObject({ line: 3, column: 9 });
  });
  it("an activity's Error becomes a fault at the call; a callee's record and the job's abort pass", () => {
    const e = raisedAt(new Error("ECONNREFUSED"), 4, 5);
    expect(ops.fault(e, "r", "r.runbook", 1, 1)).toMatchObject({ message: "ECONNREFUSED", line: 4, column: 5 });
    const callee = { message: "inner", runbook: "child", file: "child.runbook", line: 2, column: 3, data: null };
    expect(raisedAt(new RaisedError(callee), 4, 5)).toBeInstanceOf(RaisedError);
    expect(raisedAt(callee, 4, 5)).toBe(callee);
    const abort = new JobAbort({ kind: "interrupted", reason: "stop" });
    expect(raisedAt(abort, 4, 5)).toBe(abort);
  });
});
