// The one text form of every JSON value the runtime stores: a job's state, parameters, result
// and error, its stream records, signal payloads. Workers write this text to `json` columns,
// which PostgreSQL keeps byte for byte (jsonb would reorder object keys, shorter first, and
// reject \u0000), and the pool reads those columns back through `decodeJson` (runtime/db/
// connect.ts). The in-memory executor keeps its store in the same text. So a resumed job sees
// its values exactly as the run that saved them had them, and `runbook test` sees what
// production sees. See docs/runtime.md, "How values are stored".
//
// The text is JSON.stringify's, and decoding is JSON.parse, so what a value looks like after a
// round trip is exactly what JavaScript gives:
// - object keys keep the object's own order (integer-like keys such as "9" and "10" come first,
//   ascending, then the others in insertion order; JSON.parse rebuilds that same order);
// - numbers are written as the shortest text that reads back as the same double (2**64 and
//   1e21 come back exactly); -0 comes back as 0 (the only canonicalisation; values.ts already
//   makes every computed -0 a 0);
// - control characters and lone surrogates are escaped (\u0000, \ud800), so the text is valid
//   UTF-8 and every string comes back code unit for code unit.
import type { Json } from "./abi.js";

/** A value the runtime cannot store (nested too deeply for JSON.stringify, or too large). */
export class UnstorableValue extends Error {}

/** The stored text of `value`; `what` names it in the error ("the job's state"). */
export function encodeJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    // V8 throws RangeError for a value nested deeper than its stack allows (a few thousand
    // levels) and for a text longer than a string can be.
    if (e instanceof RangeError) {
      const why = /call stack/i.test(e.message) ? "it is nested too deeply (a few thousand levels at most)" : "it is too large";
      throw new UnstorableValue(`${what} cannot be stored: ${why}`);
    }
    throw new UnstorableValue(`${what} cannot be stored: ${(e as Error).message}`);
  }
  if (text === undefined) throw new UnstorableValue(`${what} cannot be stored: it is not a JSON value`);
  return text;
}

/** The value of a stored text (as written by `encodeJson`). */
export function decodeJson(text: string): Json {
  return JSON.parse(text) as Json;
}
