// The activity host: how a running job's `StepContext.activity(module, fn, args)` reaches the
// world. The worker and the in-memory executor make one ActivityHost per process and one
// JobActivities per job run (`host.forJob(...)`).
//
// - `use` modules are imported once per process (per file version); a `.ts` module imports as
//   it is (through tsx's loaders, see activityImporter). A use path is resolved relative to the folder of the
//   runbook file that declares it; a relative runbook file (as recorded at compile time, e.g.
//   `runbooks/build_vm.runbook`) is taken relative to `baseDir`, the project folder the worker
//   runs in (default: the current folder). So a published version runs with the activity
//   modules of the project folder the worker was started in.
// - An activity gets `(args, ctx)`: its arguments as one object of named fields (a private
//   copy) and an ActivityContext (runtime/activity-context.ts). `ctx.attempt` is per call: the
//   attempt of the innermost `retry` around the call, which the compiled runbook passes.
// - Its result must be plain JSON. `undefined` at the top means null; an object property whose
//   value is undefined is left out (as JSON.stringify and optional properties do); anything
//   else that is not JSON (a Date, a Map, a class instance, a function, NaN, undefined in a
//   list, a cycle) fails the call with an error naming the path, before any checkpoint sees it.
// - Built-ins are module "": exec, http, sql, asset, asset_set. `sql` runs on a connection of
//   its own (runtime/builtins/sql-connections.ts), never on the runtime's database.
// - Secrets: `asset()` of a secret (and `asset_set` of one) adds its texts to the job's mask set
//   and tells `JobOptions.onSecret` (the runner seals them in the job's state); `forJob` also
//   preloads every stored secret, so a job resumed on another worker masks what an earlier run
//   read. Whoever writes stream records passes each value through `job.mask()`, and a job's
//   final result and error through `job.maskOutcome()`. Reads and writes of secrets are audited
//   with the job's id and worker (asset_audit).
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { Json, Outcome } from "./abi.js";
import type { ActivityContext } from "./activity-context.js";
import { asset, assetSet, getAsset, jobActor, maskSecrets, secretValues, type AssetActor } from "./builtins/asset.js";
import { exec, type ExecOptions } from "./builtins/exec.js";
import { http, type HttpOptions } from "./builtins/http.js";
import { sql, type QueryFn } from "./builtins/sql.js";
import { DEFAULT_CONNECTION, SqlConnections, type SqlConnectionSource } from "./builtins/sql-connections.js";
import { PinChecker } from "./activity-pins.js";

export type { QueryFn } from "./builtins/sql.js";

export interface ActivityHostOptions {
  /** The folder relative runbook file paths are taken from (default: process.cwd()). */
  baseDir?: string;
  /**
   * The runtime's database, for `asset` and for the connection assets `sql` reads (`sql.NAME`):
   * a pg Pool's `query` fits. `sql` itself never runs on it.
   */
  query?: QueryFn;
  /** Where `sql` runs (default: the connection assets read through `query`). */
  sql?: SqlConnectionSource;
  /** RUNBOOK_SECRET_KEY by default. */
  secretKey?: string;
  exec?: ExecOptions;
  http?: HttpOptions;
}

/** A runbook as far as activities care: its file and its `use` aliases (CompiledRunbook fits). */
export interface ActivityCaller {
  file: string;
  uses: Record<string, string>;
}

export interface JobOptions {
  jobId: string;
  /** Writes a line to the job's verbose (log) stream. */
  log(message: string): void;
  /** The worker and lease epoch, handed to activities as `ctx.worker` and `ctx.leaseEpoch`. */
  worker?: string;
  leaseEpoch?: string;
  /**
   * The runbooks of the job's program, to resolve an alias when a call does not say which
   * runbook it comes from. An alias bound to two different modules then needs the caller.
   */
  runbooks?: Iterable<ActivityCaller>;
  /** Secret texts the job holds already (opened from its sealed state): masked like the rest. */
  secrets?: Iterable<string>;
  /** Told the texts of every secret the job reads or stores from now on. */
  onSecret?(texts: string[]): void;
}

type Exports = Record<string, unknown>;

const requireCache = createRequire(import.meta.url).cache;

/** Who reads a connection asset outside any job (the audit trail's actor). */
const RUNTIME_ACTOR: AssetActor = { jobId: null, worker: null, actor: "runtime: sql connection" };

export class ActivityHost {
  private readonly modules = new Map<string, { mtimeMs: number; exports: Promise<Exports> }>();
  readonly sqlConnections: SqlConnectionSource;
  /** This host's activity modules against a version's pinned hashes (runtime/activity-pins.ts). */
  readonly pins: PinChecker;

  constructor(readonly options: ActivityHostOptions = {}) {
    this.pins = new PinChecker(options.baseDir ?? process.cwd());
    const query = options.query;
    this.sqlConnections =
      options.sql ?? new SqlConnections(query ? async (name, who) => (await getAsset(query, name, options.secretKey, who ?? RUNTIME_ACTOR)).value : undefined);
  }

  /** Closes the connections `sql` opened. */
  close(): Promise<void> {
    return this.sqlConnections.close();
  }

  /** The context for one run of one job; loads the secret texts to mask. */
  async forJob(job: JobOptions): Promise<JobActivities> {
    const secrets = this.options.query ? await secretValues(this.options.query, this.options.secretKey ?? process.env.RUNBOOK_SECRET_KEY).catch(() => []) : [];
    return new JobActivities(this, job, secrets);
  }

  /** The absolute path of `usePath` as declared in `caller`. */
  resolveUse(caller: ActivityCaller, usePath: string): string {
    const base = this.options.baseDir ?? process.cwd();
    return path.resolve(base, path.dirname(caller.file), usePath);
  }

  /** Imports a module once per file version. */
  async load(file: string, shownAs: string): Promise<Exports> {
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(file).mtimeMs;
    } catch {
      throw new Error(`activity module ${shownAs} not found (looked for ${file})`);
    }
    const hit = this.modules.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit.exports;
    // A new URL per file version: the ESM cache would hand back the old code otherwise. A
    // module outside a `"type": "module"` package loads as CommonJS, cached by path instead.
    if (hit) delete requireCache[file];
    const url = `${pathToFileURL(file).href}?v=${Math.trunc(mtimeMs)}`;
    const exports = activityImporter()
      .then((importModule) => importModule(url))
      .then(
      (m: Exports) => m,
      (err: unknown) => {
        this.modules.delete(file);
        throw new Error(`activity module ${shownAs} failed to load: ${firstLine(err)}`);
      },
    );
    this.modules.set(file, { mtimeMs, exports });
    return exports;
  }
}

let importer: Promise<(url: string) => Promise<Exports>> | undefined;

/**
 * Makes `.ts` activity modules importable, once, on the first activity module, and returns the
 * function that imports them. Under tsx (the CLI from its sources, `tsx`, vitest) this file is
 * TypeScript itself and tsx's ESM loader is in place already; a `.ts` module in a folder without
 * `"type": "module"` still loads through CommonJS, which needs tsx's CommonJS hook too
 * (registering it again is harmless). Run from the compiled build (dist/: this file ends in
 * `.js`), no loader is in place: tsx's ESM loader is registered here rather than at start-up,
 * so that commands that run no activity never pay for it (see runtime/import-module.ts).
 */
function activityImporter(): Promise<(url: string) => Promise<Exports>> {
  const compiled = import.meta.url.endsWith(".js");
  importer ??= Promise.all([
    import("tsx/cjs/api").then((api) => void api.register()),
    compiled ? import("tsx/esm/api").then((api) => void api.register()) : undefined,
  ])
    .catch(() => undefined) // without tsx installed: modules are then JavaScript anyway
    .then(() => import("./import-module.js"))
    .then((m) => m.importModule as (url: string) => Promise<Exports>);
  return importer;
}

export class JobActivities {
  private readonly controller = new AbortController();
  private readonly secretTexts = new Set<string>();
  private readonly aliases = new Map<string, ActivityCaller | null>();

  constructor(
    private readonly host: ActivityHost,
    private readonly job: JobOptions,
    preloadedSecrets: string[],
  ) {
    for (const s of preloadedSecrets) this.secretTexts.add(s);
    for (const s of job.secrets ?? []) this.secretTexts.add(s);
    for (const r of job.runbooks ?? []) {
      for (const [alias, use] of Object.entries(r.uses)) {
        const prior = this.aliases.get(alias);
        if (prior === undefined) this.aliases.set(alias, r);
        else if (prior !== null && host.resolveUse(prior, prior.uses[alias]) !== host.resolveUse(r, use)) this.aliases.set(alias, null);
      }
    }
  }

  /** Fires for activities in flight (ctx.signal) and kills running `exec`s. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Call on stop or lost lease: activities see `ctx.signal` fire. */
  abort(reason = "the job is stopping"): void {
    this.controller.abort(new Error(reason));
  }

  /** The secret texts this job must never show (read by it, or stored at its start). */
  get secrets(): ReadonlySet<string> {
    return this.secretTexts;
  }

  /** A copy of a stream value (or any value about to be shown) with secrets replaced by `***`. */
  mask(value: Json): Json {
    return maskSecrets(value, this.secretTexts);
  }

  /**
   * An outcome as it may be stored and shown: a completed job's result, a failed job's error
   * (message and data) and a suspend's reason with secrets masked. Other outcomes are returned
   * as they are.
   */
  maskOutcome(outcome: Outcome): Outcome {
    if (this.secretTexts.size === 0) return outcome;
    if (outcome.kind === "completed") return { kind: "completed", result: this.mask(outcome.result) };
    if (outcome.kind === "failed") {
      const e = outcome.error;
      return { kind: "failed", error: { ...e, message: String(this.mask(e.message)), data: this.mask(e.data) } };
    }
    if (outcome.kind === "suspend" && outcome.reason !== null) return { kind: "suspend", reason: String(this.mask(outcome.reason)) };
    return outcome;
  }

  /**
   * `StepContext.activity`: `module` is the caller's `use` alias ("" for a built-in). `caller`
   * is the runbook the call is in; without it the alias is looked up in `JobOptions.runbooks`.
   * `attempt` is the call's retry attempt, the activity's `ctx.attempt` (default 1).
   */
  async activity(module: string, fn: string, args: Record<string, Json>, caller?: ActivityCaller, attempt = 1): Promise<Json> {
    if (module === "") return this.builtin(fn, args);
    const from = caller ?? this.aliases.get(module);
    const name = `${module}.${fn}`;
    if (from === null) throw new Error(`${name}: the alias ${module} names different modules in this job's runbooks; the runtime must say which runbook calls`);
    const usePath = from?.uses[module];
    if (!from || usePath === undefined) throw new Error(`${name}: no \`use ... as ${module}\` in the calling runbook`);
    const exports = await this.host.load(this.host.resolveUse(from, usePath), usePath);
    const f = exports[fn];
    if (typeof f !== "function") throw new Error(`${name}: ${usePath} exports no function ${fn}`);
    const ctx: ActivityContext = {
      jobId: this.job.jobId,
      attempt,
      signal: this.controller.signal,
      log: (message: string) => this.job.log(String(message)),
      ...(this.job.worker === undefined ? {} : { worker: this.job.worker, leaseEpoch: this.job.leaseEpoch }),
    };
    let result: unknown;
    try {
      result = await (f as (a: unknown, c: ActivityContext) => unknown)(structuredClone(args), ctx);
    } catch (err) {
      throw asError(err);
    }
    return checkJson(result, name);
  }

  private readonly learnSecret = (texts: string[]): void => {
    for (const t of texts) this.secretTexts.add(t);
    this.job.onSecret?.(texts);
  };

  private get actor() {
    return jobActor(this.job.jobId, this.job.worker ?? null);
  }

  private async builtin(fn: string, args: Record<string, Json>): Promise<Json> {
    const o = this.host.options;
    switch (fn) {
      case "exec":
        return exec({ argv: args.argv, timeout: args.timeout, env: args.env }, this.controller.signal, o.exec);
      case "http":
        return http({ method: args.method, url: args.url, headers: args.headers, body: args.body }, this.controller.signal, o.http);
      case "sql": {
        const connection = args.connection ?? DEFAULT_CONNECTION;
        return sql({ query: args.query, params: args.params, connection: String(connection) }, await this.host.sqlConnections.connection(connection, this.actor));
      }
      case "asset":
        return asset({ name: args.name }, o.query, this.learnSecret, o.secretKey, this.actor);
      case "asset_set":
        return assetSet({ name: args.name, value: args.value, secret: args.secret ?? null }, o.query, this.learnSecret, o.secretKey, this.actor);
      default:
        throw new Error(`${fn} is not a built-in activity`);
    }
  }
}

/** An activity's thrown value as a plain Error whose message the runbook sees in `err.message`. */
function asError(err: unknown): Error {
  if (err instanceof Error) return err.message ? err : new Error(err.name || "the activity failed");
  if (typeof err === "string") return new Error(err);
  try {
    return new Error(`the activity threw ${JSON.stringify(err)}`);
  } catch {
    return new Error(`the activity threw ${String(err)}`);
  }
}

/**
 * The activity's result as JSON, or an error naming where it is not: `infra.createVm returned
 * a value that is not JSON: at .created: a Date (return an ISO string)`.
 */
export function checkJson(value: unknown, name: string): Json {
  if (value === undefined) return null;
  const seen = new Set<object>();
  const fail = (where: string, what: string): never => {
    throw new Error(`${name} returned a value that is not JSON: ${where === "" ? "the result" : where.replace(/^\./, "")} is ${what}`);
  };
  const walk = (v: unknown, where: string): Json => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return Number.isFinite(v) ? v : fail(where, String(v));
      case "undefined":
        return fail(where, "undefined (use null)");
      case "bigint":
        return fail(where, "a bigint (return a number or a string)");
      case "symbol":
        return fail(where, "a symbol");
      case "function":
        return fail(where, "a function");
    }
    if (v === null) return null;
    const o = v as object;
    if (seen.has(o)) return fail(where, "a reference back to itself (a cycle)");
    if (Array.isArray(o)) {
      seen.add(o);
      const out: Json[] = [];
      for (let i = 0; i < o.length; i++) out.push(walk(o[i], `${where}[${i}]`));
      seen.delete(o);
      return out;
    }
    const proto = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (o as { constructor?: { name?: string } }).constructor?.name || "object";
      if (o instanceof Date) return fail(where, "a Date (return an ISO string)");
      if (o instanceof Map) return fail(where, "a Map (return a plain object)");
      if (o instanceof Set) return fail(where, "a Set (return an array)");
      return fail(where, `an instance of ${kind} (return a plain object)`);
    }
    seen.add(o);
    const out: { [key: string]: Json } = {};
    for (const [k, e] of Object.entries(o)) {
      if (e === undefined) continue; // an optional property left out
      out[k] = walk(e, `${where}.${k}`);
    }
    seen.delete(o);
    return out;
  };
  return walk(value, "");
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0];
}
