// Editor positions ↔ runbook positions. LSP positions are 0-based lines and UTF-16 character
// offsets; runbook spans are 1-based lines and columns, also in UTF-16 code units, plus an
// offset. Files are absolute paths inside the server and file:// URIs on the wire.
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Location, Range } from "vscode-languageserver";
import type { Span } from "../grammar/ast.js";

export function uriToPath(uri: string): string | undefined {
  return uri.startsWith("file:") ? fileURLToPath(uri) : undefined;
}

export function pathToUri(file: string): string {
  return pathToFileURL(file).href;
}

export function spanToRange(span: Span): Range {
  return {
    start: { line: span.start.line - 1, character: span.start.column - 1 },
    end: { line: span.end.line - 1, character: span.end.column - 1 },
  };
}

export function spanToLocation(span: Span): Location {
  return { uri: pathToUri(span.file), range: spanToRange(span) };
}

/** Does `span` contain `offset`? Its end counts too: a name is found with the cursor just after it. */
export function spanHas(span: Span, offset: number): boolean {
  return span.start.offset <= offset && offset <= span.end.offset;
}
