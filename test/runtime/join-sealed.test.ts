// A `parallel for` waiting in a job's state (runtime/join.ts `$join`) whose branch arguments hold
// a secret: the stored state never has it in clear, and opening the state gives the join back.
import { expect, it } from "vitest";
import type { Join, JobState } from "../../runtime/abi.js";
import { secretKey, secretKeys } from "../../runtime/builtins/asset.js";
import { clearJoin, joinOf, setJoin } from "../../runtime/join.js";
import { openState, sealState } from "../../runtime/sealed-state.js";

const PW = "s3cret-pass-0123456789";
const KEY = "a passphrase for the join tests";

it("seals branch arguments holding a secret with the state, and opens them again", () => {
  const join: Join = { runbook: "p__branch1", args: [{ dsn: `postgres://app:${PW}@db1`, h: "a" }], elements: ["a"], limit: null, onError: "stop", key: 0, at: { runbook: "p", file: "p.runbook", line: 2, column: 3 } };
  const state: JobState = { seq: 1, frames: [{ runbook: "p", pc: 1, locals: { hosts: ["a"] } }] };
  setJoin(state, join);
  expect(joinOf(state)).toEqual(join);
  const stored = sealState(state, "job-1", new Set([PW]), () => secretKey(KEY));
  expect(JSON.stringify(stored)).not.toContain("0123456789");
  expect(joinOf(stored)).toBeUndefined(); // moved into the envelope
  const opened = openState(JSON.parse(JSON.stringify(stored)), "job-1", () => secretKeys(KEY, undefined));
  expect(joinOf(opened.state)).toEqual(join);
  clearJoin(opened.state);
  expect(opened.state.frames[0].locals).toEqual({ hosts: ["a"] });
});
