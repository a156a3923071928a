// String literals: the scanner the lexer uses to find where a string ends, and the decoder the
// AST builder uses to turn a string token into text and interpolated expression ranges.
//
// Rules (written down in docs/language.md as well):
// - `"..."` is one line: a line break before the closing quote makes it unterminated, also when
//   the break sits inside an interpolation `${...}`.
// - `"""..."""` may span lines, interpolations in it too. One leading line break right after
//   the opening quotes is dropped; nothing else is (no indentation stripping). CRLF inside a
//   string becomes LF, so a file's line endings never change a value.
// - Escapes: `\n \t \" \\ \$` (and `\r`, `\{`, `\}` for convenience). `$` not followed by `{` is
//   a plain dollar sign. `${` opens an interpolation that ends at its matching `}`; strings,
//   maps and blocks nested inside it are skipped as a whole.
//
// The scanner is iterative with an explicit frame stack, so absurd nesting cannot overflow the
// call stack; it also reports the deepest nesting it saw, which the parser uses to refuse input
// that would overflow the recursive-descent parser.

const QUOTE = 34; // "
const BACKSLASH = 92;
const DOLLAR = 36;
const LBRACE = 123;
const RBRACE = 125;
const LPAREN = 40;
const RPAREN = 41;
const LBRACKET = 91;
const RBRACKET = 93;
const LF = 10;
const CR = 13;

const SINGLE = 0;
const TRIPLE = 1;
const INTERP = 2;

export interface StringScan {
  /** Offset just past the string (at the line break or end of text when unterminated). */
  end: number;
  terminated: boolean;
  /** Deepest nesting of strings, interpolations and brackets inside the string (≥ 1). */
  depth: number;
}

/** Scans the string literal starting at `start` (which holds `"`). */
export function scanString(text: string, start: number): StringScan {
  const triple = isTripleQuote(text, start);
  const frames: number[] = [triple ? TRIPLE : SINGLE];
  return run(text, start + (triple ? 3 : 1), frames, 0);
}

/**
 * Finds the `}` closing the interpolation whose `${` ends just before `start`, inside a string
 * of the given kind. Returns the offset of that `}` or -1 when the interpolation is unterminated.
 */
function scanInterpolation(text: string, start: number, triple: boolean): number {
  const frames = [triple ? TRIPLE : SINGLE, INTERP];
  const r = run(text, start, frames, 1);
  return r.terminated ? r.end - 1 : -1;
}

function isTripleQuote(text: string, i: number): boolean {
  return text.charCodeAt(i) === QUOTE && text.charCodeAt(i + 1) === QUOTE && text.charCodeAt(i + 2) === QUOTE;
}

/** Runs the frame machine from `i` until the frame stack shrinks to `stopAt` frames. */
function run(text: string, i: number, frames: number[], stopAt: number): StringScan {
  const n = text.length;
  // Brace depth of each open interpolation frame (maps and blocks inside `${}`), by frame index.
  const braces: number[] = frames.map(() => 0);
  let depth = frames.length;
  let maxDepth = depth;
  while (i < n) {
    const kind = frames[frames.length - 1];
    const c = text.charCodeAt(i);
    if (kind !== INTERP) {
      if (c === BACKSLASH) {
        const next = text.charCodeAt(i + 1);
        if (kind === SINGLE && (next === LF || next === CR)) return { end: i + 1, terminated: false, depth: maxDepth };
        i += 2;
      } else if (c === QUOTE) {
        if (kind === TRIPLE) {
          if (!isTripleQuote(text, i)) {
            i++;
            continue;
          }
          i += 3;
        } else i++;
        frames.pop();
        depth--;
        if (frames.length === stopAt) return { end: i, terminated: true, depth: maxDepth };
      } else if (c === DOLLAR && text.charCodeAt(i + 1) === LBRACE) {
        frames.push(INTERP);
        braces[frames.length - 1] = 0;
        if (++depth > maxDepth) maxDepth = depth;
        i += 2;
      } else if ((c === LF || c === CR) && kind === SINGLE) {
        return { end: i, terminated: false, depth: maxDepth };
      } else i++;
      continue;
    }
    // Inside an interpolation: ordinary code.
    const top = frames.length - 1;
    if (c === QUOTE) {
      const triple = isTripleQuote(text, i);
      frames.push(triple ? TRIPLE : SINGLE);
      if (++depth > maxDepth) maxDepth = depth;
      i += triple ? 3 : 1;
    } else if (c === RBRACE) {
      i++;
      if (braces[top] === 0) {
        frames.pop();
        depth--;
        if (frames.length === stopAt) return { end: i, terminated: true, depth: maxDepth };
      } else {
        braces[top]--;
        depth--;
      }
    } else if (c === LBRACE) {
      braces[top]++;
      if (++depth > maxDepth) maxDepth = depth;
      i++;
    } else if (c === LPAREN || c === LBRACKET) {
      if (++depth > maxDepth) maxDepth = depth;
      i++;
    } else if (c === RPAREN || c === RBRACKET) {
      depth--;
      i++;
    } else if (c === LF || c === CR) {
      // A line break inside `${}` is fine only when every enclosing string is triple-quoted.
      if (frames.includes(SINGLE)) return { end: i, terminated: false, depth: maxDepth };
      i++;
    } else i++;
  }
  return { end: n, terminated: false, depth: maxDepth };
}

/** A piece of a decoded string: literal text, or the offsets of an interpolated expression. */
export type StringPiece = string | { start: number; end: number };

export interface DecodedString {
  pieces: StringPiece[];
  /** Offsets (into the file) of escapes that are not known, for diagnostics. */
  badEscapes: number[];
  /** Offsets of `${` whose `}` is missing. */
  unterminatedInterpolations: number[];
  /** Offsets of `${}` with nothing inside. */
  emptyInterpolations: number[];
}

/**
 * Decodes the string token at `start..end` of `text`. Literal pieces are
 * merged, so the result never holds two strings in a row. Expression pieces are file offsets
 * of the text between `${` and `}`.
 */
export function decodeString(text: string, start: number, end: number, terminated: boolean): DecodedString {
  const triple = isTripleQuote(text, start);
  let i = start + (triple ? 3 : 1);
  // Content ends before the closing quote(s), if the string is terminated.
  const contentEnd = terminated ? end - (triple ? 3 : 1) : end;
  if (triple) {
    if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
    else if (text.charCodeAt(i) === LF || text.charCodeAt(i) === CR) i += 1;
  }
  const out: DecodedString = { pieces: [], badEscapes: [], unterminatedInterpolations: [], emptyInterpolations: [] };
  let buf = "";
  let runStart = i;
  while (i < contentEnd) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      buf += text.slice(runStart, i);
      const e = text[i + 1];
      switch (e) {
        case "n": buf += "\n"; break;
        case "t": buf += "\t"; break;
        case "r": buf += "\r"; break;
        case '"': buf += '"'; break;
        case "\\": buf += "\\"; break;
        case "$": buf += "$"; break;
        case "{": buf += "{"; break;
        case "}": buf += "}"; break;
        default:
          out.badEscapes.push(i);
          if (e !== undefined) buf += e;
      }
      i += 2;
      runStart = i;
    } else if (c === CR) {
      buf += text.slice(runStart, i) + "\n";
      i += text.charCodeAt(i + 1) === LF ? 2 : 1;
      runStart = i;
    } else if (c === DOLLAR && text.charCodeAt(i + 1) === LBRACE) {
      buf += text.slice(runStart, i);
      const close = scanInterpolation(text, i + 2, triple);
      if (close < 0 || close >= contentEnd) {
        out.unterminatedInterpolations.push(i);
        i = contentEnd;
        runStart = i;
        break;
      }
      if (text.slice(i + 2, close).trim() === "") out.emptyInterpolations.push(i);
      else {
        if (buf !== "") out.pieces.push(buf);
        buf = "";
        out.pieces.push({ start: i + 2, end: close });
      }
      i = close + 1;
      runStart = i;
    } else i++;
  }
  buf += text.slice(runStart, Math.min(i, contentEnd));
  if (buf !== "" || out.pieces.length === 0) out.pieces.push(buf);
  return out;
}

/**
 * Why the string token at start..end (unterminated) is unterminated: the `${` left open if
 * that is the reason, else the string itself.
 */
export function unterminatedReason(text: string, start: number, end: number): { at: number; end: number; interpolation: boolean; triple: boolean } {
  const open = decodeString(text, start, end, false).unterminatedInterpolations[0];
  const triple = isTripleQuote(text, start);
  return open !== undefined ? { at: open, end, interpolation: true, triple } : { at: start, end, interpolation: false, triple };
}
