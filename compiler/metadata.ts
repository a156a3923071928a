// A compiled runbook's metadata as data: what callers, `publish`, the CLI and an editor need to
// know about a module without importing it. The emitted module's `runbook` object
// (compiler/emit.ts) prints these same values, so the two cannot disagree.
import type * as ast from "../grammar/ast.js";
import type { ParamInfo, Placement } from "../runtime/abi.js";
import type { Built } from "./build.js";
import type { CheckedRunbook } from "./checked.js";
import type { Request } from "./ir.js";
import type { LoweredRunbook } from "./lower.js";
import { typeText } from "./tstype.js";
import { forEachExpr } from "./ast-walk.js";

/** Where a runbook can stop and be persisted, and the case it resumes at. */
export interface SuspensionPoint {
  kind: Request["kind"];
  line: number;
  column: number;
  /** The pc the frame resumes at (a key of `live`). */
  resumePc: number;
}

/** A runbook another one calls inline or starts as a child job. */
export interface CallSite {
  runbook: string;
  how: "call" | "start";
  /** Can the callee suspend (then an inline call is a suspension point of the caller)? */
  canSuspend: boolean;
  line: number;
  column: number;
}

/** Everything about a module except its code: the emitted `runbook` object's fields, and more. */
export interface ModuleMetadata {
  name: string;
  /** The `.runbook` file, as given to the compiler. */
  file: string;
  params: ParamInfo[];
  /** Declared result type as written, or null. */
  returns: string | null;
  canSuspend: boolean;
  /** Runbooks called inline or started, sorted and distinct (published with this one). */
  calls: string[];
  callSites: CallSite[];
  /** `use` alias → path as written. */
  uses: Record<string, string>;
  /** Resume pc → the slots still live there. */
  live: Record<number, string[]>;
  /** The source map: pc → the `.runbook` line and column its case starts at. */
  positions: Record<number, [number, number]>;
  suspensions: SuspensionPoint[];
  /** The header's `group` and `concurrency` (compiler/placement.ts); absent: neither. */
  placement?: Placement;
}

export function moduleMetadata(rb: CheckedRunbook, lowered: LoweredRunbook, built: Built, live: Record<number, string[]>): ModuleMetadata {
  const callSites = callSitesOf(rb);
  const suspensions: SuspensionPoint[] = [];
  // Its `parallel for` bodies are published with it, like the runbooks it starts.
  const branches: string[] = [];
  for (const op of lowered.ops) {
    if (op.op === "suspend") suspensions.push({ kind: op.request.kind, line: op.at.line, column: op.at.column, resumePc: built.pcs.get(op.resume)! });
    if (op.op === "suspend" && op.request.kind === "parallel") branches.push(op.request.runbook);
  }
  return {
    name: rb.signature.name,
    file: rb.file,
    params: rb.signature.params.map((p, i) => {
      const decl = rb.decl.params[i];
      return { name: p.name, type: decl ? typeText(decl.type) : "any", typeData: p.type as ParamInfo["typeData"], hasDefault: p.hasDefault };
    }),
    returns: rb.decl.returnType ? typeText(rb.decl.returnType) : null,
    canSuspend: rb.canSuspend,
    calls: [...new Set([...callSites.map((c) => c.runbook), ...branches])].sort(),
    callSites,
    uses: Object.fromEntries(Object.keys(rb.uses).sort().map((alias) => [alias, rb.uses[alias]])),
    live: Object.fromEntries(Object.keys(live).map(Number).sort((a, b) => a - b).map((pc) => [pc, live[pc]])),
    positions: positionsOf(built),
    suspensions,
    ...(rb.placement ? { placement: rb.placement } : {}),
  };
}

/** Every call of a runbook, in source order; a call inside `start` is a start. */
function callSitesOf(rb: CheckedRunbook): CallSite[] {
  const sites: CallSite[] = [];
  const started = new Set<ast.CallExpr>();
  forEachExpr(rb.decl.body, (e) => {
    if (e.kind === "Start") started.add(e.call);
    if (e.kind !== "Call") return;
    const r = rb.calls.get(e);
    if (r?.kind !== "runbook") return;
    const at = e.span.start;
    sites.push({ runbook: r.callee, how: started.has(e) ? "start" : "call", canSuspend: r.canSuspend, line: at.line, column: at.column });
  });
  return sites;
}

/** pc → [line, column]; a case with no positioned op inherits the position before it. */
function positionsOf(built: Built): Record<number, [number, number]> {
  const rows: Record<number, [number, number]> = {};
  let last: [number, number] = [0, 0];
  for (const k of built.cases) {
    if (k.at) last = [k.at.line, k.at.column];
    rows[k.pc] = last;
  }
  return rows;
}
