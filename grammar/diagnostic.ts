// Diagnostics are values: every stage returns a list of them instead of throwing.
// Codes are stable identifiers (tests and `--format json` consumers rely on them):
//   RB1xxx  syntax (grammar/)            RB2xxx  names, types, control flow (compiler/checker)
//   RB3xxx  activities and `use` modules  RB9xxx  input problems (unreadable file, too large)
// Each stage keeps its own registry of codes and message templates next to its code
// (grammar/messages.ts, compiler/messages.ts); printing lives in compiler/report.ts.
import type { Span } from "./ast.js";

export type Severity = "error" | "warning";

export interface Diagnostic {
  severity: Severity;
  /** Stable code, e.g. "RB2001". */
  code: string;
  /** One sentence, no trailing period needed, no file position (the printer adds it). */
  message: string;
  span: Span;
  /** Optional suggestion shown under the caret ("did you mean `hosts`?"). */
  hint?: string;
  /** Other places that explain this one (the first declaration of a redeclared name). */
  related?: { message: string; span: Span }[];
}
