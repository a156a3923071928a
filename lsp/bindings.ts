// Questions the editor features ask of a runbook's bindings, the checker's record of what every
// local name binds to (compiler/bindings.ts): which local a position names, and which locals a
// name typed at a position could read.
import type { Binding, Bindings } from "../compiler/bindings.js";

export type { Binding, Bindings } from "../compiler/bindings.js";

/** The local whose declaration or reference stands at `offset` (the cursor may be just after the name). */
export function localAt(b: Bindings, offset: number): { local: Binding; ref: Binding["uses"][number] | undefined } | undefined {
  for (const local of b.all) if (local.id.span.start.offset <= offset && offset <= local.id.span.end.offset) return { local, ref: undefined };
  for (const [ref, local] of b.ofRef) if (ref.span.start.offset <= offset && offset <= ref.span.end.offset) return { local, ref };
  return undefined;
}

/**
 * The locals a name at `offset` could read: one per name, the innermost declaration. Strictly
 * inside the visible range: at its very start the declaration is still being typed, at its end
 * the cursor stands after the block's `}`.
 */
export function localsVisibleAt(b: Bindings, offset: number): Binding[] {
  const byName = new Map<string, Binding>();
  for (const l of b.all) {
    if (!l.inScope || offset <= l.visible.from || offset >= l.visible.to) continue;
    const other = byName.get(l.name);
    if (!other || l.visible.from > other.visible.from) byName.set(l.name, l);
  }
  return [...byName.values()];
}
