// The language's words, for completion and rename: the reserved ones come from the grammar's
// own set (grammar/contextual.ts), so the two never disagree.
import { RESERVED } from "../grammar/contextual.js";

/** Words that are never a name (`let`, `if`, ...). */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([...RESERVED].map((t) => String((t.PATTERN as RegExp).source)));

/** Every keyword an author types: the reserved words and the contextual ones (statement and expression words). */
export const KEYWORDS: readonly string[] = [
  ...RESERVED_WORDS,
  "checkpoint", "sleep", "suspend", "output", "log", "warn", "error", "fail", "retry", "wait", "timeout", "start", "await",
];
