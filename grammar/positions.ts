// Offsets → line/column. Lines end at "\n", "\r\n" or a lone "\r"; columns count UTF-16 code
// units from 1. Lookups are mostly in increasing order, so the last line found is tried first.
import type { Position, Span } from "./ast.js";

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

  /** The position of `offset`, clamped into [0, text.length]. */
  position(offset: number): Position {
    if (!(offset >= 0)) offset = 0; // also NaN
    if (offset > this.text.length) offset = this.text.length;
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
    return { line: line + 1, column: offset - starts[line] + 1, offset };
  }

  /** A span from `start` (inclusive) to `end` (exclusive) offsets; `end` is raised to `start`. */
  span(start: number, end: number): Span {
    const s = this.position(start);
    const e = end > s.offset ? this.position(end) : s;
    return { file: this.file, start: s, end: e === s ? { ...s } : e };
  }
}
