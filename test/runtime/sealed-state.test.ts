// runtime/sealed-state.ts: which locals are sealed, that the rest of the state is left as it
// is, and that an envelope opens only for its job, with its key, unaltered.
import { describe, expect, it } from "vitest";
import type { JobState } from "../../runtime/abi.js";
import { secretKey, secretKeys } from "../../runtime/builtins/asset.js";
import { openState, sealState, type StoredState } from "../../runtime/sealed-state.js";

const PW = 'p"w\\-0123456789';
const KEY = "a passphrase for the sealed-state tests";
const key = () => secretKey(KEY);
const keys = () => secretKeys(KEY, undefined);

function state(): JobState {
  return {
    seq: 3,
    frames: [
      { runbook: "outer", pc: 2, locals: { pw: PW, host: "db1", port: 5432, conn: { user: "app", password: PW }, n: null } },
      { runbook: "inner", pc: 1, locals: { dsn: `postgres://app:${PW}@db1`, other: ["a", "b"] } },
      { runbook: "leaf", pc: 0, locals: { x: 1 } },
    ],
  };
}
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe("sealState", () => {
  it("returns the state itself when the job holds no secret, or none of its locals holds one", () => {
    const s = state();
    expect(sealState(s, "j1", new Set(), key)).toBe(s);
    expect(sealState(s, "j1", new Set(["not-in-any-local"]), key)).toBe(s);
  });

  it("moves every local holding a secret (whole, interpolated, JSON-escaped inside a map) into one envelope; the rest stays", () => {
    const s = state();
    const before = copy(s);
    const stored = sealState(s, "j1", new Set([PW]), key);
    expect(s).toEqual(before); // the running job's state is untouched
    expect(stored.frames.map((f) => Object.keys(f.locals))).toEqual([["host", "port", "n"], ["other"], ["x"]]);
    expect(stored.frames[2]).toBe(s.frames[2]); // frames without secrets are shared, not copied
    expect(stored.seq).toBe(3);
    expect(JSON.stringify(stored)).not.toContain("0123456789");
    expect(stored.sealed).toMatch(/^v1\.scrypt\./);
  });

  it("seals a number that shows a numeric secret", () => {
    const s: JobState = { seq: 0, frames: [{ runbook: "r", pc: 1, locals: { pin: 98765432, other: 1 } }] };
    const stored = sealState(s, "j1", new Set(["98765432"]), key);
    expect(Object.keys(stored.frames[0].locals)).toEqual(["other"]);
  });
});

describe("openState", () => {
  it("puts the sealed locals back and hands back the secret texts", () => {
    const stored = copy(sealState(state(), "j1", new Set([PW, "never-held"]), key));
    const opened = openState(stored, "j1", keys);
    expect(opened.state.frames.map((f) => f.locals)).toEqual(state().frames.map((f) => expect.objectContaining(f.locals)));
    expect(opened.state).not.toHaveProperty("sealed");
    expect(opened.secrets).toEqual([PW]); // only texts some local still holds are carried
  });

  it("leaves a state without an envelope as it is", () => {
    const s = state();
    expect(openState(s, "j1", keys)).toEqual({ state: s, secrets: [] });
  });

  it("refuses an envelope of another job, under another key, altered, or missing the key", () => {
    const stored = sealState(state(), "j1", new Set([PW]), key) as StoredState;
    expect(() => openState(copy(stored), "j2", keys)).toThrow(/^its sealed secrets do not open: wrong RUNBOOK_SECRET_KEY, or the stored value was altered$/);
    expect(() => openState(copy(stored), "j1", () => secretKeys("another passphrase", undefined))).toThrow(/wrong RUNBOOK_SECRET_KEY/);
    const altered = copy(stored);
    altered.sealed = altered.sealed!.slice(0, -4) + (altered.sealed!.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(() => openState(altered, "j1", keys)).toThrow(/do not open/);
    expect(() => openState(copy(stored), "j1", () => secretKeys("", undefined))).toThrow(/^its sealed secrets do not open: RUNBOOK_SECRET_KEY is not set/);
    expect(() => openState({ ...copy(stored), sealed: 42 as unknown as string }, "j1", keys)).toThrow("its sealed secrets are not an envelope");
  });

  it("opens with the previous key during a rotation", () => {
    const stored = sealState(state(), "j1", new Set([PW]), () => secretKey("the old key"));
    const opened = openState(copy(stored), "j1", () => secretKeys("the new key", "the old key"));
    expect(opened.state.frames[0].locals.pw).toBe(PW);
  });
});
