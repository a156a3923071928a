// Doc comments, for hover and completion: a runbook's are the `#` lines right above its
// `runbook` line (no blank line between), an activity's is the `/** ... */` block (or the `//`
// lines) right above its declaration in the TypeScript module. Plain text either way; the
// editor shows it as Markdown.
import * as fs from "node:fs";
import type { Span } from "../grammar/ast.js";

/** The `#` comment lines directly above the line where `offset` stands, without their `#`. */
export function runbookDoc(text: string, offset: number): string | undefined {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const above = text.slice(0, lineStart).split(/\r?\n/);
  above.pop(); // the empty piece after the last line break
  const doc: string[] = [];
  for (let i = above.length - 1; i >= 0; i--) {
    const m = /^\s*#\s?(.*)$/.exec(above[i]!);
    if (!m) break;
    doc.unshift(m[1]!.trimEnd());
  }
  return doc.length ? doc.join("\n").trim() || undefined : undefined;
}

/** The doc comment right above a TypeScript declaration (read from disk), or undefined. */
export function activityDoc(declaration: Span): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(declaration.file, "utf8");
  } catch {
    return undefined;
  }
  return tsDocBefore(text, declaration.start.offset);
}

export function tsDocBefore(text: string, offset: number): string | undefined {
  const before = text.slice(0, offset).trimEnd();
  if (before.endsWith("*/")) {
    const open = before.lastIndexOf("/*");
    if (open < 0) return undefined;
    const body = before.slice(open + 2, -2).replace(/^\*/, "");
    const lines = body.split(/\r?\n/).map((l) => l.replace(/^\s*\*? ?/, "").trimEnd());
    return lines.join("\n").trim() || undefined;
  }
  const lines = before.split(/\r?\n/);
  const doc: string[] = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\s*\/\/\s?(.*)$/.exec(lines[i]!);
    if (!m) break;
    doc.unshift(m[1]!.trimEnd());
  }
  return doc.length ? doc.join("\n").trim() || undefined : undefined;
}
