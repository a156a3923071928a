// The checker: names, types, control flow and calls of a whole project, in three passes.
//
//   1. declare   every runbook's signature (so calls between files resolve in any order), the
//                name-versus-file rule, duplicate names; every file's `use` modules;
//   2. check     each runbook body (check-runbook.ts, check-expr.ts): scopes, types, calls,
//                reachability, unused locals; it records inline-call edges, whether the body
//                suspends by itself, and calls that stand where a suspending call may not;
//   3. link      the call graph: inline-call cycles, `canSuspend` to a fixpoint, then the
//                suspending-call placement rule, which needs `canSuspend` of every callee.
//
// Diagnostics are collected, never thrown; an expression with an error has type `error`, which
// fits everywhere, so one mistake is reported once.
import * as path from "node:path";
import type * as ast from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { ActivityModule } from "./activities.js";
import { BUILTIN_ACTIVITIES, BUILTIN_FUNCTIONS } from "./builtins.js";
import type { CheckedRunbook, Signature } from "./checked.js";
import { checkRunbookBody, unknownTypeHint, type BodyFacts, type ProjectView, type UseInfo } from "./check-runbook.js";
import { M, diag } from "./messages.js";
import { checkPlacement } from "./placement.js";
import { T, typeFromNode } from "./types.js";

/** One parsed file handed to the checker. */
export interface CheckInput {
  file: string;
  ast: ast.SourceFileNode;
  /** The file had syntax errors: skip checks a dropped statement would make wrong (unused locals). */
  hasSyntaxErrors: boolean;
}

/** Loads a `use` module (compiler/activities.ts in production, a fake in unit tests). */
export type ModuleLoader = (runbookFile: string, usePath: string, alias: string) => ActivityModule;

export interface CheckResult {
  runbooks: Map<string, CheckedRunbook>;
  diagnostics: Diagnostic[];
}

interface Declared {
  input: CheckInput;
  decl: ast.RunbookDecl;
  signature: Signature;
}

export function checkProject(inputs: CheckInput[], loadModule: ModuleLoader): CheckResult {
  const diagnostics: Diagnostic[] = [];
  const declared = declareRunbooks(inputs, diagnostics);
  const signatures = new Map([...declared].map(([name, d]) => [name, d.signature]));

  const runbooks = new Map<string, CheckedRunbook>();
  const facts = new Map<string, BodyFacts>();
  for (const input of inputs) {
    const uses = loadUses(input, loadModule, diagnostics);
    const decl = input.ast.runbook;
    if (!decl) {
      reportUnusedAliases(uses, input, diagnostics);
      continue;
    }
    const own = declared.get(decl.name.name);
    // A second runbook of the same name is still checked (its errors are real), under its own
    // signature, but only the first is part of the project.
    const signature = own?.decl === decl ? own.signature : declareSignature(decl, diagnostics);
    const view: ProjectView = { signatures, uses, builtins: BUILTIN_FUNCTIONS, builtinActivities: BUILTIN_ACTIVITIES };
    const result = checkRunbookBody(decl, signature, view, { parsedCleanly: !input.hasSyntaxErrors });
    diagnostics.push(...result.diagnostics);
    const placement = checkPlacement(decl, signature, diagnostics);
    reportUnusedAliases(uses, input, diagnostics);
    if (own?.decl !== decl) continue;
    facts.set(decl.name.name, result.facts);
    runbooks.set(decl.name.name, {
      file: input.file,
      source: input.ast,
      decl,
      signature,
      canSuspend: result.facts.suspendsDirectly,
      calls: result.calls,
      types: result.types,
      uses: Object.fromEntries([...uses].map(([alias, u]) => [alias, u.decl.path])),
      modules: new Map([...uses].map(([alias, u]) => [alias, u.module])),
      bindings: result.bindings,
      placement,
    });
    // The bodies of its `parallel for`s: runbooks of the same file, with the same `use`s.
    for (const b of result.branches) {
      facts.set(b.signature.name, b.facts);
      runbooks.set(b.signature.name, { ...runbooks.get(decl.name.name)!, decl: b.decl, signature: b.signature, canSuspend: b.facts.suspendsDirectly, calls: b.calls, types: b.types, bindings: b.bindings, branchOf: decl.name.name });
    }
  }

  linkCallGraph(runbooks, facts, diagnostics);
  return { runbooks, diagnostics };
}

// ---------------------------------------------------------------------------------------------
// Pass 1: declarations

function declareRunbooks(inputs: CheckInput[], diagnostics: Diagnostic[]): Map<string, Declared> {
  const declared = new Map<string, Declared>();
  for (const input of inputs) {
    const decl = input.ast.runbook;
    if (!decl) continue;
    const name = decl.name.name;
    const base = path.basename(input.file).replace(/\.runbook$/, "");
    if (base !== name) {
      diagnostics.push(
        diag(M.nameMismatch, decl.name.span, [name, path.basename(input.file)], {
          hint: `rename the file to ${name}.runbook, or the runbook to ${base}`,
        }),
      );
    }
    if (BUILTIN_FUNCTIONS.has(name) || BUILTIN_ACTIVITIES.has(name)) {
      diagnostics.push(diag(M.runbookNameIsBuiltin, decl.name.span, [name]));
    }
    const first = declared.get(name);
    if (first) {
      diagnostics.push(
        diag(M.duplicateRunbook, decl.name.span, [name], {
          related: [{ message: `\`${name}\` is first declared here`, span: first.decl.name.span }],
        }),
      );
      continue;
    }
    declared.set(name, { input, decl, signature: declareSignature(decl, diagnostics) });
  }
  return declared;
}

/** The signature of a runbook header; unknown type names are reported here, once. */
function declareSignature(decl: ast.RunbookDecl, diagnostics: Diagnostic[]): Signature {
  const unknown = (name: string, node: ast.TypeNode) =>
    diagnostics.push(diag(M.unknownType, node.span, [name], { hint: unknownTypeHint(name) }));
  const params = decl.params.map((p) => ({
    name: p.name.name,
    type: typeFromNode(p.type, unknown),
    hasDefault: p.default !== undefined,
  }));
  const returns = decl.returnType ? typeFromNode(decl.returnType, unknown) : T.null;
  return { name: decl.name.name, params, returns };
}

function loadUses(input: CheckInput, loadModule: ModuleLoader, diagnostics: Diagnostic[]): Map<string, UseInfo> {
  const uses = new Map<string, UseInfo>();
  for (const u of input.ast.uses) {
    const alias = u.alias.name;
    const first = uses.get(alias);
    if (first) {
      diagnostics.push(
        diag(M.duplicateAlias, u.alias.span, [alias], {
          related: [{ message: `\`${alias}\` is first used here`, span: first.decl.alias.span }],
        }),
      );
      continue;
    }
    const module = loadModule(input.file, u.path, alias);
    if (module.error !== undefined) diagnostics.push(diag(M.moduleError, u.span, [u.path, module.error]));
    uses.set(alias, { decl: u, module, used: false });
  }
  return uses;
}

function reportUnusedAliases(uses: Map<string, UseInfo>, input: CheckInput, diagnostics: Diagnostic[]): void {
  if (input.hasSyntaxErrors || !input.ast.runbook) return;
  for (const [alias, u] of uses) {
    if (!u.used && u.module.error === undefined) {
      diagnostics.push(diag(M.unusedAlias, u.decl.alias.span, [alias], { hint: "remove the `use` line" }));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 3: the call graph

function linkCallGraph(runbooks: Map<string, CheckedRunbook>, facts: Map<string, BodyFacts>, diagnostics: Diagnostic[]): void {
  reportCycles(facts, diagnostics);

  // canSuspend to a fixpoint: a runbook suspends if it does so itself or calls inline one that does.
  const suspends = new Map([...facts].map(([name, f]) => [name, f.suspendsDirectly]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, f] of facts) {
      if (suspends.get(name)) continue;
      if (f.inlineCalls.some((c) => suspends.get(c.callee))) {
        suspends.set(name, true);
        changed = true;
      }
    }
  }
  for (const [name, rb] of runbooks) {
    rb.canSuspend = suspends.get(name) ?? false;
    for (const resolution of rb.calls.values()) {
      if (resolution.kind === "runbook") resolution.canSuspend = suspends.get(resolution.callee) ?? false;
    }
  }

  // The placement rule for inline calls, now that every callee's canSuspend is known.
  for (const f of facts.values()) {
    for (const c of f.nestedCalls) {
      if (!suspends.get(c.callee)) continue;
      diagnostics.push(
        diag(M.suspendingCallNested, c.span, [`the call of \`${c.callee}\``], {
          hint: `\`${c.callee}\` can reach a suspension point; bind it with \`let\` first: \`let r = ${c.callee}(...)\`, then use \`r\``,
        }),
      );
    }
  }
}

/** Every cycle of inline calls (strongly connected components, Tarjan), reported once each. */
function reportCycles(facts: Map<string, BodyFacts>, diagnostics: Diagnostic[]): void {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const callees = (name: string) => (facts.get(name)?.inlineCalls ?? []).map((c) => c.callee).filter((c) => facts.has(c));

  // Iterative, so a long chain of calls cannot overflow the stack.
  for (const root of [...facts.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1]!;
      const out = callees(frame.node);
      if (frame.next < out.length) {
        const w = out[frame.next++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== frame.node);
        components.push(component);
      }
    }
  }

  for (const component of components) {
    const members = new Set(component);
    const start = [...members].sort()[0]!;
    const selfLoop = facts.get(start)!.inlineCalls.some((c) => c.callee === start);
    if (members.size === 1 && !selfLoop) continue;
    const cycle = findCycle(start, members, facts);
    const [first, ...rest] = cycle;
    diagnostics.push(
      diag(M.callCycle, first!.span, [[start, ...cycle.map((c) => c.callee)]], {
        hint: "break the cycle, or run one of the calls as its own job with `start`",
        related: rest.map((c) => ({ message: `\`${c.caller}\` calls \`${c.callee}\` here`, span: c.span })),
      }),
    );
  }
}

/** A shortest cycle from `start` back to it, through the component's members (breadth first). */
function findCycle(start: string, members: Set<string>, facts: Map<string, BodyFacts>): { caller: string; callee: string; span: ast.Span }[] {
  type Edge = { caller: string; callee: string; span: ast.Span };
  const via = new Map<string, Edge>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const c of facts.get(node)!.inlineCalls) {
      if (!members.has(c.callee)) continue;
      const edge = { caller: node, callee: c.callee, span: c.span };
      if (c.callee === start) {
        const pathBack: Edge[] = [edge];
        for (let n = node; n !== start; n = via.get(n)!.caller) pathBack.unshift(via.get(n)!);
        return pathBack;
      }
      if (!via.has(c.callee)) {
        via.set(c.callee, edge);
        queue.push(c.callee);
      }
    }
  }
  return [];
}

