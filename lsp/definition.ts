// Go to definition: a local → its declaration, a runbook → its `runbook` line's name in its
// file, an activity → its declaration in the TypeScript module, a `use` alias or path → the
// module, a named argument → the callee's parameter.
import type { Location } from "vscode-languageserver";
import type { Analysis, FileAnalysis } from "./analysis.js";
import { targetAt } from "./locate.js";
import { pathToUri, spanToLocation } from "./positions.js";

export function definition(a: Analysis, f: FileAnalysis, offset: number): Location | null {
  const t = targetAt(a, f, offset);
  if (!t) return null;
  switch (t.kind) {
    case "local":
      return spanToLocation(t.local.id.span);
    case "runbook": {
      const rb = a.runbooks.get(t.name);
      return rb ? spanToLocation(rb.decl.name.span) : null;
    }
    case "activity": {
      const fn = f.modules.get(t.alias)?.functions.get(t.fn);
      return fn ? spanToLocation(fn.declaration) : null;
    }
    case "alias":
    case "usePath": {
      const m = f.modules.get(t.alias);
      return m && m.error === undefined ? { uri: pathToUri(m.path), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } } : null;
    }
    case "argument": {
      const res = t.call;
      if (res.kind === "runbook") {
        const p = a.runbooks.get(res.callee)?.decl.params.find((x) => x.name.name === t.name);
        return p ? spanToLocation(p.name.span) : null;
      }
      if (res.kind === "activity" && res.module !== "") {
        const fn = f.modules.get(res.module)?.functions.get(res.fn);
        return fn ? spanToLocation(fn.declaration) : null;
      }
      return null;
    }
    case "builtin":
      return null;
  }
}
