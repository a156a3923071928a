// Printing diagnostics: for people (text with the source line and a caret), for programs (JSON),
// and for GitHub Actions annotations. Diagnostics carry positions; the source line is looked up
// only here, when printed.
import type { Span } from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";

export type ReportFormat = "text" | "json" | "github";
export const REPORT_FORMATS: readonly ReportFormat[] = ["text", "json", "github"];

/** The JSON shape of one diagnostic (`--format json`). */
export interface JsonDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: "error" | "warning";
  code: string;
  message: string;
}

/** Source lines longer than this are shown as a window around the column. */
const MAX_SHOWN = 160;

export function formatDiagnostics(diags: Diagnostic[], sources: ReadonlyMap<string, string>, format: ReportFormat): string {
  const sorted = sortDiagnostics(diags);
  switch (format) {
    case "json":
      return `${JSON.stringify(sorted.map(toJson), null, 2)}\n`;
    case "github":
      return sorted.map(toGithub).join("");
    case "text": {
      const lines = new LineIndex(sources);
      return sorted.map((d) => toText(d, lines)).join("");
    }
  }
}

/** By file, line, column; otherwise in the order found (the sort is stable). */
export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return [...diags].sort(
    (a, b) =>
      (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : 0) ||
      a.span.start.line - b.span.start.line ||
      a.span.start.column - b.span.start.column,
  );
}

export function toJson(d: Diagnostic): JsonDiagnostic {
  return {
    file: d.span.file,
    line: d.span.start.line,
    column: d.span.start.column,
    endLine: d.span.end.line,
    endColumn: d.span.end.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
  };
}

// ---------------------------------------------------------------------------------------------
// Text

function where(span: Span): string {
  return `${span.file}:${span.start.line}:${span.start.column}`;
}

function toText(d: Diagnostic, lines: LineIndex): string {
  let out = `${where(d.span)}: ${d.severity}: ${d.message} [${d.code}]\n`;
  const source = lines.line(d.span.file, d.span.start.line);
  if (source !== undefined) {
    const { shown, caret } = sourceWithCaret(source, d.span);
    out += `${shown}\n${caret}\n`;
  }
  if (d.hint) out += `  hint: ${d.hint}\n`;
  for (const r of d.related ?? []) out += `  ${where(r.span)}: note: ${r.message}\n`;
  return out;
}

/**
 * The source line (control characters made visible, long lines cut to a window) and the caret
 * line under it: `^` at the column, `~` to the end of the span on that line. Tabs in the source
 * are repeated in the caret line so the caret stays aligned in any tab width.
 */
export function sourceWithCaret(line: string, span: Span): { shown: string; caret: string } {
  const startIndex = Math.min(Math.max(0, span.start.column - 1), line.length);
  let endIndex = span.end.line === span.start.line ? Math.max(startIndex, span.end.column - 1) : line.length;
  endIndex = Math.min(endIndex, line.length);

  let from = 0;
  let to = line.length;
  if (line.length > MAX_SHOWN) {
    from = Math.max(0, startIndex - 60);
    to = Math.min(line.length, from + MAX_SHOWN);
    endIndex = Math.min(endIndex, to);
  }
  const visible = line.slice(from, to).replace(/[\u0000-\u0008\u000A-\u001F\u007F]/g, "\uFFFD");
  const shown = `${from > 0 ? "…" : ""}${visible}${to < line.length ? "…" : ""}`;

  let caret = from > 0 ? " " : "";
  for (const ch of codePoints(line.slice(from, startIndex))) caret += ch === "\t" ? "\t" : " ";
  const width = codePoints(line.slice(startIndex, endIndex)).length;
  caret += `^${"~".repeat(Math.max(0, width - 1))}`;
  return { shown, caret };
}

function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Lines of each source, split on first use. */
class LineIndex {
  private readonly split = new Map<string, string[]>();
  constructor(private readonly sources: ReadonlyMap<string, string>) {}

  line(file: string, n: number): string | undefined {
    let lines = this.split.get(file);
    if (!lines) {
      const text = this.sources.get(file);
      if (text === undefined) return undefined;
      // The same line breaks as the parser's positions: "\n", "\r\n" or a lone "\r".
      lines = text.split(/\r\n|\r|\n/);
      this.split.set(file, lines);
    }
    return lines[n - 1];
  }
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions workflow commands

function toGithub(d: Diagnostic): string {
  const props = [
    `file=${escapeProperty(d.span.file)}`,
    `line=${d.span.start.line}`,
    `col=${d.span.start.column}`,
    `endLine=${d.span.end.line}`,
    `endColumn=${d.span.end.column}`,
    `title=${escapeProperty(d.code)}`,
  ].join(",");
  const message = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
  return `::${d.severity} ${props}::${escapeData(message)}\n`;
}

/** GitHub's escaping for a command's message. */
export function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** GitHub's escaping for a command's properties: the data escapes plus `:` and `,`. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
