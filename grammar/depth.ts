// Bounds the depth of a built tree. Brackets are bounded before parsing (layout.ts), but a tree
// can still grow deep without them: `1 + 1 + ... + 1` with 50,000 terms, or a long `else if`
// chain. Every later stage walks the tree recursively, so the parser refuses such a tree here,
// with an explicit stack so that measuring it cannot overflow either.
import type { SourceFileNode } from "./ast.js";

/** Deepest AST the parser hands on; well inside what recursive walkers manage on Node's stack. */
export const MAX_TREE_DEPTH = 1000;

/** True when some node of `root` lies deeper than `limit`. */
export function exceedsDepth(root: SourceFileNode, limit: number): boolean {
  const nodes: unknown[] = [root];
  const depths: number[] = [0];
  while (nodes.length > 0) {
    const node = nodes.pop() as Record<string, unknown>;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    for (const key in node) {
      if (key === "span" || key === "keySpan") continue;
      const v = node[key];
      if (typeof v !== "object" || v === null) continue;
      if (Array.isArray(v)) {
        for (const item of v) {
          if (typeof item === "object" && item !== null) {
            nodes.push(item);
            depths.push(depth + 1);
          }
        }
      } else {
        nodes.push(v);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
