// Offsets → line/column. Lines end at "\n", "\r\n" or a lone "\r"; columns count UTF-16 code
// units from 1. Lookups are mostly in increasing order, so the last line found is tried first.
import type { Position, Span } from "./ast.js";

const RECENT = 4096; // a power of two

export class LineMap {
  /** Offset where each line starts; lineStarts[0] = 0. */
  private readonly lineStarts: number[];
  private last = 0;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      }
    }
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /**
   * Recently made positions by offset (direct-mapped). A parent node starts where its first
   * child starts and ends where its last child ends, so most spans can share Position objects:
   * about a third less memory for an AST, and less for the garbage collector to copy.
   */
  private readonly recent: (Position | undefined)[] = new Array(RECENT);

  /** The position of `offset`, clamped into [0, text.length]. Positions may be shared: never mutate one. */
  position(offset: number): Position {
    if (!(offset >= 0)) offset = 0; // also NaN
    if (offset > this.text.length) offset = this.text.length;
    const slot = offset & (RECENT - 1);
    const hit = this.recent[slot];
    if (hit !== undefined && hit.offset === offset) return hit;
    const starts = this.lineStarts;
    let line = this.last;
    if (!(starts[line] <= offset && (line + 1 >= starts.length || starts[line + 1] > offset))) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      line = lo;
      this.last = line;
    }
    const p = { line: line + 1, column: offset - starts[line] + 1, offset };
    this.recent[slot] = p;
    return p;
  }

  /**
   * The indentation (leading spaces and tabs) of the line holding `offset`, and whether only
   * that indentation precedes `offset` on its line.
   */
  indentation(offset: number): { indent: number; first: boolean } {
    const p = this.position(offset);
    const lineStart = offset - (p.column - 1);
    let i = lineStart;
    while (i < offset && (this.text.charCodeAt(i) === 32 || this.text.charCodeAt(i) === 9)) i++;
    let indent = i - lineStart;
    const first = i === offset;
    if (first) return { indent, first };
    while (this.text.charCodeAt(lineStart + indent) === 32 || this.text.charCodeAt(lineStart + indent) === 9) indent++;
    return { indent, first };
  }

  /** A span from `start` (inclusive) to `end` (exclusive) offsets; `end` is raised to `start`. */
  span(start: number, end: number): Span {
    const s = this.position(start);
    return { file: this.file, start: s, end: end > s.offset ? this.position(end) : s };
  }
}
