// What `runbook test` answers instead of the world, read from its flags and fixtures file and
// checked before anything runs (docs/testing.md):
// - fake assets: `--asset NAME=VALUE`, `--secret NAME=VALUE` (VALUE or @FILE), fixtures
//   "assets" and "secrets". `asset()` in a test reads only these, never the stored assets.
// - canned activity answers: `--mock MODULE.FN=JSON` (JSON or @FILE; MODULE is the `use` alias
//   the runbook calls it by; a built-in is just `exec`, `http` or `sql`), fixtures "activities".
//   Every canned result must fit the activity's declared result type.
// - `--offline`: an activity with no mock may not run live.
// Bad input is a CliError (exit 2) of one line naming the flag or the fixtures entry.
import { readFileSync } from "node:fs";
import type { Json } from "../runtime/abi.js";
import { checkAssetName, checkSecretValue, parseAssetText } from "../runtime/builtins/asset.js";
import { loadActivityModule, type ActivityModule } from "../compiler/activities.js";
import { BUILTIN_ACTIVITIES } from "../compiler/builtins.js";
import type { ActivitySignature, CheckedProject } from "../compiler/checked.js";
import { didYouMean } from "../compiler/scope.js";
import { describeType, validateValue } from "../compiler/types.js";
import { CliError } from "./errors.js";

export interface FakeFlags {
  asset: string[];
  secret: string[];
  mock: string[];
  fixtures?: string;
  offline?: boolean;
}

/** One canned answer: the call returns `result`, or fails with `error` (and `data`). */
export type Answer = { result: Json } | { error: string; data: Json };

export interface Mock {
  /** `infra.createVm`, or `exec` for a built-in. */
  key: string;
  /** Where it was given, for messages: `--mock infra.createVm`, `f.json: activities["x.y"]`. */
  source: string;
  answers: Answer[];
  /** true: the one answer is for every call; false: the n-th call gets the n-th answer. */
  every: boolean;
}

export interface FakeAsset {
  value: Json;
  secret: boolean;
}

export interface Fakes {
  assets: Map<string, FakeAsset>;
  mocks: Map<string, Mock>;
  offline: boolean;
}

/** Built-ins that may be mocked; `asset` is faked with --asset / --secret instead. */
const MOCKABLE_BUILTINS = ["exec", "http", "sql"];

// ---------------------------------------------------------------------------------------------
// The activities a project can call

/** Built-ins, and each runbook's `use` modules by alias (an alias may name different modules). */
export class ProjectActivities {
  /** runbook name → alias → module */
  private readonly modules = new Map<string, Map<string, ActivityModule>>();

  constructor(project: CheckedProject) {
    for (const rb of project.runbooks.values()) {
      const byAlias = new Map<string, ActivityModule>();
      for (const [alias, use] of Object.entries(rb.uses)) byAlias.set(alias, loadActivityModule(rb.file, use, alias));
      this.modules.set(rb.signature.name, byAlias);
    }
  }

  /** The signature a call in `runbook` to `module.fn` ("" for a built-in) was checked against. */
  signature(runbook: string, module: string, fn: string): ActivitySignature | undefined {
    if (module === "") return BUILTIN_ACTIVITIES.get(fn);
    return this.modules.get(runbook)?.get(module)?.functions.get(fn);
  }

  /** Every signature `key` (`alias.fn` or a built-in's name) has here, or why there is none. */
  resolve(key: string): ActivitySignature[] | string {
    const dot = key.lastIndexOf(".");
    if (dot < 0) {
      if (key === "asset") return "asset() is not mocked: fake the asset with --asset NAME=VALUE or --secret NAME=VALUE";
      const builtin = MOCKABLE_BUILTINS.includes(key) ? BUILTIN_ACTIVITIES.get(key) : undefined;
      if (builtin) return [builtin];
      const hint = didYouMean(key, MOCKABLE_BUILTINS);
      return `${key} is not a built-in activity (write a module's function as ALIAS.FUNCTION; built-ins: ${MOCKABLE_BUILTINS.join(", ")})${hint ? `; ${hint}` : ""}`;
    }
    const alias = key.slice(0, dot);
    const fn = key.slice(dot + 1);
    const modules = [...this.modules.values()].flatMap((m) => (m.has(alias) ? [m.get(alias)!] : []));
    if (modules.length === 0) {
      const aliases = new Set([...this.modules.values()].flatMap((m) => [...m.keys()]));
      const hint = didYouMean(alias, aliases);
      return `no runbook here uses a module as ${alias}${aliases.size > 0 ? ` (aliases: ${[...aliases].sort().join(", ")})` : ""}${hint ? `; ${hint}` : ""}`;
    }
    const found = modules.flatMap((m) => (m.functions.has(fn) ? [m.functions.get(fn)!] : []));
    if (found.length > 0) return found;
    const hint = didYouMean(fn, modules.flatMap((m) => [...m.functions.keys()]));
    return `the module used as ${alias} exports no function ${fn}${hint ? `; ${hint}` : ""}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and checking

export function readFakes(flags: FakeFlags, activities: ProjectActivities): Fakes {
  const fakes: Fakes = { assets: new Map(), mocks: new Map(), offline: flags.offline === true };
  if (flags.fixtures !== undefined) readFixtures(flags.fixtures, fakes);
  // Flags override the fixtures file's entry of the same name; a flag given twice is a mistake.
  const given = new Set<string>();
  const once = (what: string, name: string) => {
    if (given.has(`${what}:${name}`)) usage(`${what} ${name} is given twice`);
    given.add(`${what}:${name}`);
  };
  for (const [flag, secret] of [["--asset", false], ["--secret", true]] as const) {
    for (const text of flag === "--asset" ? flags.asset : flags.secret) {
      const [name, raw] = splitFlag(flag, text, "NAME=VALUE or NAME=@FILE");
      once("asset", name);
      setFake(fakes, `${flag} ${name}`, name, parseAssetText(readValue(`${flag} ${name}`, raw)), secret);
    }
  }
  for (const text of flags.mock) {
    const [key, raw] = splitFlag("--mock", text, "MODULE.FUNCTION=JSON or MODULE.FUNCTION=@FILE");
    once("--mock", key);
    const source = `--mock ${key}`;
    const body = readValue(source, raw);
    let result: Json;
    try {
      result = JSON.parse(body) as Json;
    } catch {
      return usage(`${source}: the answer ${JSON.stringify(body.length > 60 ? `${body.slice(0, 60)}…` : body)} is not JSON`);
    }
    fakes.mocks.set(key, { key, source, answers: [{ result }], every: true });
  }
  for (const mock of fakes.mocks.values()) checkMock(mock, activities);
  return fakes;
}

function usage(message: string): never {
  throw new CliError(message, 2);
}

function splitFlag(flag: string, text: string, form: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) usage(`${flag} ${text}: write it as ${form}`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** The value itself, or the text of FILE for `@FILE` (minus one trailing newline). */
function readValue(source: string, raw: string): string {
  if (!raw.startsWith("@")) return raw;
  const file = raw.slice(1);
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return usage(`${source}: cannot read ${file}: ${code === "ENOENT" ? "no such file" : (code ?? (e as Error).message)}`);
  }
}

function setFake(fakes: Fakes, source: string, name: string, value: Json, secret: boolean): void {
  try {
    checkAssetName(name);
    if (secret) checkSecretValue(value);
  } catch (e) {
    usage(`${source}: ${(e as Error).message}`);
  }
  fakes.assets.set(name, { value, secret });
}

/** Every canned result must fit the declared result type of every activity the key names. */
function checkMock(mock: Mock, activities: ProjectActivities): void {
  const signatures = activities.resolve(mock.key);
  if (typeof signatures === "string") usage(`${mock.source}: ${signatures}`);
  mock.answers.forEach((answer, i) => {
    if (!("result" in answer)) return;
    for (const sig of signatures) {
      const problem = validateValue(answer.result, sig.returns);
      if (problem) {
        const where = mock.every ? mock.source : `${mock.source}[${i}]`;
        usage(`${where}: the answer does not fit ${mock.key}'s declared result ${describeType(sig.returns)}: ${problem}`);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The fixtures file (JSON)

const FIXTURE_KEYS = ["assets", "secrets", "activities"];

function readFixtures(file: string, fakes: Fakes): void {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return usage(`--fixtures ${file}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code ?? (e as Error).message})`}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return usage(`--fixtures ${file}: not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) return usage(`--fixtures ${file}: expected an object with ${FIXTURE_KEYS.join(", ")}`);
  for (const key of Object.keys(doc)) {
    if (!FIXTURE_KEYS.includes(key)) usage(`${file}: unknown key ${JSON.stringify(key)} (it takes ${FIXTURE_KEYS.join(", ")})${hintFor(key, FIXTURE_KEYS)}`);
  }
  for (const [key, secret] of [["assets", false], ["secrets", true]] as const) {
    const section = doc[key];
    if (section === undefined) continue;
    if (!isObject(section)) usage(`${file}: ${key} must be an object of NAME: VALUE`);
    for (const [name, value] of Object.entries(section)) {
      if (fakes.assets.has(name)) usage(`${file}: asset ${name} is in both assets and secrets`);
      setFake(fakes, `${file}: ${key}.${name}`, name, value as Json, secret);
    }
  }
  const activities = doc.activities;
  if (activities === undefined) return;
  if (!isObject(activities)) return usage(`${file}: activities must be an object of "MODULE.FUNCTION": ANSWER or [ANSWER, ...]`);
  for (const [key, entry] of Object.entries(activities)) {
    const source = `${file}: activities[${JSON.stringify(key)}]`;
    const list = Array.isArray(entry);
    const answers = (list ? entry : [entry]).map((a, i) => readAnswer(list ? `${source}[${i}]` : source, a));
    if (list && answers.length === 0) usage(`${source}: an empty list answers no call (give at least one answer)`);
    fakes.mocks.set(key, { key, source, answers, every: !list });
  }
}

function readAnswer(source: string, a: unknown): Answer {
  const form = 'write an answer as {"result": VALUE} or {"error": "MESSAGE"} (with "data" optional)';
  if (!isObject(a)) return usage(`${source}: ${form}`);
  const keys = Object.keys(a).sort().join(",");
  if (keys === "result") return { result: a.result as Json };
  if (keys === "error" || keys === "data,error") {
    if (typeof a.error !== "string" || a.error === "") usage(`${source}: "error" must be a non-empty message`);
    return { error: a.error as string, data: (a.data ?? null) as Json };
  }
  return usage(`${source}: ${form}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hintFor(name: string, candidates: string[]): string {
  const hint = didYouMean(name, candidates);
  return hint ? `; ${hint}` : "";
}
