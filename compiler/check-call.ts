// Calls in a runbook body: of project runbooks, built-in functions and activities (built-in
// or from a `use` module), each resolved to a CallResolution for the back end, with the
// arguments matched to parameters (positional, then named) and checked against their types.
// Separate from check-expr.ts because resolving a callee and normalizing its arguments is its
// own concern; CallChecker sits between ExprChecker (expressions, which call `call`) and
// RunbookChecker (statements) in one class chain so all three share one body's state.
import type * as ast from "../grammar/ast.js";
import type { BuiltinCheck, BuiltinFunction } from "./builtins.js";
import type { ActivitySignature } from "./checked.js";
import { ExprChecker, describeTarget, type Place } from "./check-expr.js";
import { M } from "./messages.js";
import { closest, didYouMean } from "./scope.js";
import { T, isAssignable, describeType, type Type } from "./types.js";

/** A parameter as the argument matcher sees it (runbook parameters and activity properties). */
interface ParamSlot {
  name: string;
  type: Type;
  required: boolean;
}

export abstract class CallChecker extends ExprChecker {
  protected call(e: ast.CallExpr, place: Place, started: boolean): Type {
    const callee = e.callee;
    if (callee.kind === "Member") return this.activityCall(e, callee, started);
    const name = callee.name;
    const signature = this.view.signatures.get(name);
    if (signature) {
      if (this.refuseInDefault(e.span)) return this.argsOnly(e, T.error);
      const params = signature.params.map((p) => ({ name: p.name, type: p.type, required: !p.hasDefault }));
      const args = this.matchArgs(name, params, e);
      this.calls.set(e, { kind: "runbook", callee: name, canSuspend: false, paramNames: params.map((p) => p.name), args });
      if (!started) {
        this.facts.inlineCalls.push({ callee: name, span: e.span });
        if (place === "nested") this.facts.nestedCalls.push({ callee: name, span: e.span });
      }
      return signature.returns;
    }
    if (started) {
      this.report(M.startNotRunbook, callee.span, [name], { hint: didYouMean(name, this.view.signatures.keys()) });
      return this.argsOnly(e, T.error);
    }
    const builtin = this.view.builtins.get(name);
    if (builtin) return this.builtinCall(e, builtin);
    const activity = this.view.builtinActivities.get(name);
    if (activity) {
      if (this.refuseInDefault(e.span)) return this.argsOnly(e, T.error);
      return this.activityArgs(e, activity, "");
    }
    const local = this.scope.lookup(name);
    if (local) {
      (local.origin ?? local).used = true;
      this.report(M.notCallable, callee.span, [name]);
    } else if (this.view.uses.has(name)) {
      this.view.uses.get(name)!.used = true;
      this.report(M.aliasAsValue, callee.span, [name], { hint: `call one of its functions: \`${name}.fn(...)\`` });
    } else {
      // An activity of a `use` module called without its alias is the likeliest slip.
      const alias = [...this.view.uses].find(([, u]) => u.module.functions.has(name))?.[0];
      const candidates = [...this.view.signatures.keys(), ...this.view.builtins.keys(), ...this.view.builtinActivities.keys()];
      const hint = alias !== undefined ? `did you mean \`${alias}.${name}\`?` : didYouMean(name, candidates);
      this.report(M.unknownCallee, callee.span, [name], { hint });
    }
    return this.argsOnly(e, T.error);
  }

  /** Check the argument expressions of a call that could not be resolved. */
  protected argsOnly(e: ast.CallExpr, result: Type): Type {
    for (const a of e.args) this.expr(a.value, undefined);
    return result;
  }

  protected activityCall(e: ast.CallExpr, callee: ast.MemberExpr, started: boolean): Type {
    const object = callee.object;
    if (object.kind !== "Name" || !this.isAlias(object.name)) {
      const t = this.expr(object, undefined);
      const fn = callee.property.name;
      // An object with an error of its own (`nope.f()`) is reported once, there.
      if (t.kind !== "error") {
        this.report(M.memberCallNotAlias, callee.span, [], {
          hint: this.view.builtins.has(fn) ? `built-in functions take the value as an argument: \`${fn}(...)\`` : `\`${describeTarget(object)}\` is a value of type ${describeType(t)}`,
        });
      }
      return this.argsOnly(e, T.error);
    }
    const use = this.view.uses.get(object.name)!;
    use.used = true;
    if (started) {
      this.report(M.startNotRunbook, callee.span, [`${object.name}.${callee.property.name}`]);
      return this.argsOnly(e, T.error);
    }
    if (this.refuseInDefault(e.span)) return this.argsOnly(e, T.error);
    if (use.module.error !== undefined) return this.argsOnly(e, T.error); // reported at the `use`
    const fn = use.module.functions.get(callee.property.name);
    if (!fn) {
      this.report(M.unknownActivity, callee.property.span, [object.name, callee.property.name], {
        hint: didYouMean(callee.property.name, use.module.functions.keys()),
        related: [{ message: `\`${object.name}\` is ${use.decl.path}`, span: use.decl.span }],
      });
      return this.argsOnly(e, T.error);
    }
    const problem = fn.unserializable ?? fn.unsupportedParam;
    if (problem !== undefined) {
      this.report(fn.unserializable !== undefined ? M.unserializable : M.unsupportedParam, e.span, [problem], {
        related: [{ message: `\`${object.name}.${fn.name}\` is declared here`, span: fn.declaration }],
      });
      this.activityArgs(e, fn, object.name);
      return T.error;
    }
    return this.activityArgs(e, fn, object.name);
  }

  protected activityArgs(e: ast.CallExpr, fn: ActivitySignature, module: string): Type {
    const params = fn.params.map((p) => ({ name: p.name, type: p.optional ? T.optional(p.type) : p.type, required: !p.optional }));
    const name = module ? `${module}.${fn.name}` : fn.name;
    const args = this.matchArgs(name, params, e);
    this.calls.set(e, { kind: "activity", module, fn: fn.name, paramNames: params.map((p) => p.name), args });
    return fn.returns;
  }

  protected builtinCall(e: ast.CallExpr, fn: BuiltinFunction): Type {
    const named = e.args.find((a) => a.name);
    if (named) this.report(M.namedArgToBuiltin, named.name!.span, [fn.name]);
    const types = e.args.map((a) => this.expr(a.value, undefined));
    this.calls.set(e, { kind: "builtin", fn: fn.name, args: e.args.map((a) => a.value) });
    if (types.length < fn.arity.min || types.length > fn.arity.max) {
      const span = types.length > fn.arity.max ? e.args[fn.arity.max]!.span : e.callee.span;
      this.report(M.builtinArity, span, [fn.name, fn.arity.text, types.length]);
      return T.error;
    }
    const check = new ArgMismatches(types, (i, want) => this.report(M.builtinArgType, e.args[i]!.value.span, [fn.name, i + 1, want, describeType(types[i]!)]));
    const result = fn.check(types, check);
    return check.bad ? T.error : result;
  }

  /**
   * Match a call's arguments to parameters: positional ones in order, then named ones by name.
   * Returns the argument expression for each parameter (undefined where left out).
   */
  protected matchArgs(callee: string, params: ParamSlot[], e: ast.CallExpr): (ast.Expr | undefined)[] {
    const out: (ast.Expr | undefined)[] = params.map(() => undefined);
    const given = params.map(() => false);
    let tooMany = false;
    const meant = new Set<string>();
    for (const [i, a] of e.args.entries()) {
      let slot: number;
      if (!a.name) {
        slot = i;
        if (slot >= params.length) {
          if (!tooMany) this.report(M.tooManyArgs, a.span, [callee, params.length, e.args.filter((x) => !x.name).length]);
          tooMany = true;
          this.expr(a.value, undefined);
          continue;
        }
      } else {
        slot = params.findIndex((p) => p.name === a.name!.name);
        if (slot < 0) {
          const near = closest(a.name.name, params.filter((_, j) => !given[j]).map((p) => p.name));
          // A misspelled name of a missing parameter is one mistake: do not also report it missing.
          if (near !== undefined) meant.add(near);
          this.report(M.unknownNamedArg, a.name.span, [callee, a.name.name], { hint: near && `did you mean \`${near}\`?` });
          this.expr(a.value, undefined);
          continue;
        }
        if (given[slot]) {
          this.report(M.duplicateArg, a.name.span, [callee, a.name.name]);
          this.expr(a.value, undefined);
          continue;
        }
      }
      given[slot] = true;
      out[slot] = a.value;
      const want = params[slot]!.type;
      const t = this.expr(a.value, want);
      if (!isAssignable(t, want)) this.report(M.argMismatch, a.value.span, [callee, params[slot]!.name, describeType(t), describeType(want)]);
    }
    const missing = params.filter((p, i) => p.required && !given[i] && !meant.has(p.name)).map((p) => p.name);
    if (missing.length) this.report(M.missingArgs, e.callee.span, [callee, missing]);
    return out;
  }
}

/**
 * A built-in's complaints about its arguments' types, reported through `report` unless the
 * argument is already an error. A class rather than an object literal with a `mismatch` arrow:
 * tsx names such a closure each time it is made (an Object.defineProperty per call).
 */
class ArgMismatches implements BuiltinCheck {
  bad = false;
  constructor(
    private readonly types: Type[],
    private readonly report: (index: number, expected: string) => void,
  ) {}

  mismatch(index: number, expected: string): void {
    if (this.types[index]?.kind === "error") return;
    this.bad = true;
    this.report(index, expected);
  }
}
