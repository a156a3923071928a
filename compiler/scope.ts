// Block scopes of a runbook body. A runbook's parameters share the body's outermost scope (so
// `let size = ...` next to a parameter `size` is a redeclaration), as do a `for` loop's names
// and a `catch` name with their blocks; every other block opens a scope of its own, where
// shadowing an outer name is allowed.
import type { Identifier, Span } from "../grammar/ast.js";
import type { Binding } from "./bindings.js";
import type { Type } from "./types.js";

export type LocalKind = "param" | "let" | "for" | "catch";

export interface Local {
  name: string;
  kind: LocalKind;
  type: Type;
  /** The name where it is declared. */
  span: Span;
  /** Read at least once (assignments alone do not count). */
  used: boolean;
  /** For a narrowed view (`x` where `x != null` is known): the local itself. */
  origin?: Local;
  /** The checker's record of this declaration (a narrowed view shares its origin's). */
  binding: Binding;
}

/** The name that binds nothing. */
export const DISCARD = "_";

export class Scope {
  private readonly locals = new Map<string, Local>();
  /** Locals of outer scopes seen here with a narrower type (`T` for a `T?` known not null). */
  private readonly narrowed = new Map<string, Local>();

  /** The block this scope covers (set when the block is entered; none for a default's scope). */
  span: Span | undefined;

  constructor(readonly parent: Scope | undefined) {}

  /**
   * Declare a name; returns the existing local of this very scope when it is a redeclaration.
   * `_` declares nothing: it discards (`for _, v in m`), so it may appear any number of times.
   */
  declare(id: Identifier, kind: LocalKind, type: Type): { local: Local; previous: Local | undefined } {
    const binding: Binding = { name: id.name, kind, type, id, uses: [], visible: { from: 0, to: 0 }, inScope: true };
    const local: Local = { name: id.name, kind, type, span: id.span, used: false, binding };
    if (id.name === DISCARD) return { local, previous: undefined };
    const previous = this.locals.get(id.name);
    if (!previous) this.locals.set(id.name, local);
    return { local, previous };
  }

  lookup(name: string): Local | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const l = s.narrowed.get(name) ?? s.locals.get(name);
      if (l) return l;
    }
    return undefined;
  }

  /** From here on (in this scope and its children), see `local` with type `type`. */
  narrow(local: Local, type: Type): void {
    const origin = local.origin ?? local;
    this.narrowed.set(local.name, { ...origin, type, origin });
  }

  /** Every name visible here, for "did you mean" hints. */
  visibleNames(): string[] {
    const names = new Set<string>();
    for (let s: Scope | undefined = this; s; s = s.parent) for (const n of s.locals.keys()) names.add(n);
    return [...names];
  }

  /** The locals declared in this scope (not its parents), in declaration order. */
  own(): Local[] {
    return [...this.locals.values()];
  }
}

/** Levenshtein distance, capped: returns `max + 1` as soon as it is exceeded. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      rowMin = Math.min(rowMin, cur[j]!);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate within a third of the name's length (at least 1 edit), if any. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const max = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(name, c, max);
    if (d < bestDistance || (d === bestDistance && best !== undefined && c < best)) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= max ? best : undefined;
}

/** `did you mean `x`?` for the closest candidate, or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const c = closest(name, candidates);
  return c === undefined ? undefined : `did you mean \`${c}\`?`;
}
