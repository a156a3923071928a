// Job parameters, read and checked against a runbook's declaration: `--param k=v` flags for
// `runbook test` (cli/test.ts), `run`, `start` and webhooks' fixed parameters; JSON values for
// the HTTP API and webhook bodies. Each value is read by its declared type (numbers, bools,
// durations like 1h30m, times, JSON for lists, maps and records, text for `any` that is not
// JSON) and checked with the checker's validateValue; a bad, unknown, repeated or missing
// parameter is a one-line OperatorError ("invalid": exit 2, HTTP 400) naming it, before any job
// exists. Kept free of the compiler's heavy parts so `runbook start` loads fast.
import { typeToString, validateValue, type Type } from "../compiler/types.js";
import type { Json, ParamInfo } from "./abi.js";
import { OperatorError } from "./operator/errors.js";

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1h30m` → 5400000, or null when the text is not a duration. */
export function parseDuration(s: string): number | null {
  if (!DURATION.test(s)) return null;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(n) * UNIT_MS[unit];
  return ms;
}

/** A value read from JSON, with durations written as text (`"30s"`) and times normalized. */
function normalize(v: Json, type: Type): Json {
  switch (type.kind) {
    case "optional":
      return v === null ? null : normalize(v, type.inner);
    case "duration":
      return typeof v === "string" ? (parseDuration(v) ?? v) : v;
    case "time":
      return typeof v === "string" && !Number.isNaN(Date.parse(v)) ? new Date(Date.parse(v)).toISOString() : v;
    case "list":
      return Array.isArray(v) ? v.map((x) => normalize(x, type.element)) : v;
    case "map":
      return isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x, type.value)])) : v;
    case "record":
      return isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, type.fields[k] ? normalize(x, type.fields[k]) : x])) : v;
    default:
      return v;
  }
}

function isObject(v: Json): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads one `--param` value by its declared type; throws a one-line error naming it. */
export function readParam(name: string, raw: string, type: Type): Json {
  const bad = (why: string): never => {
    throw new OperatorError(`parameter ${name} (${typeToString(type)}): ${why}`, "invalid");
  };
  const scalar = (t: Type): Json => {
    switch (t.kind) {
      case "optional":
        return raw === "null" ? null : scalar(t.inner);
      case "string":
        return raw;
      case "number": {
        const n = raw.trim() === "" ? NaN : Number(raw);
        return Number.isFinite(n) ? n : bad(`${JSON.stringify(raw)} is not a number`);
      }
      case "bool":
        return raw === "true" ? true : raw === "false" ? false : bad(`${JSON.stringify(raw)} is not true or false`);
      case "duration":
        return parseDuration(raw) ?? bad(`${JSON.stringify(raw)} is not a duration (write it like 30s, 2m, 1h30m or 250ms)`);
      case "time": {
        const ms = Date.parse(raw);
        return Number.isNaN(ms) ? bad(`${JSON.stringify(raw)} is not a time (write it like 2026-01-01T00:00:00Z)`) : new Date(ms).toISOString();
      }
      case "any":
        try {
          return JSON.parse(raw) as Json;
        } catch {
          return raw; // plain text is a string
        }
      default:
        try {
          return normalize(JSON.parse(raw) as Json, t);
        } catch {
          return bad(`${JSON.stringify(raw)} is not JSON`);
        }
    }
  };
  const value = scalar(type);
  const problem = validateValue(value, type);
  if (problem) bad(problem);
  return value;
}

/** A runbook's header as far as its parameters go (CheckedRunbook.signature fits). */
export interface ParamSignature {
  name: string;
  params: { name: string; type: Type; hasDefault: boolean }[];
}

/** The job's parameters from `--param k=v` flags, checked against the runbook's header. */
export function parseParams(rb: { signature: ParamSignature }, flags: string[], requireAll = true): Record<string, Json> {
  const declared = rb.signature.params;
  const out: Record<string, Json> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new OperatorError(`--param ${flag}: write it as NAME=VALUE`, "invalid");
    const name = flag.slice(0, eq);
    const p = declaredParam(rb.signature, name);
    if (Object.hasOwn(out, name)) throw new OperatorError(`parameter ${name} is given twice`, "invalid");
    out[name] = readParam(name, flag.slice(eq + 1), p.type);
  }
  if (requireAll) checkMissing(declared, out, (n) => `pass --param ${n}=VALUE`);
  return out;
}

function declaredParam(signature: ParamSignature, name: string): ParamSignature["params"][number] {
  const p = signature.params.find((d) => d.name === name);
  if (p) return p;
  const takes = signature.params.length ? `it takes ${signature.params.map((d) => d.name).join(", ")}` : "it takes no parameters";
  throw new OperatorError(`unknown parameter ${name} for runbook ${signature.name} (${takes})`, "invalid");
}

function checkMissing(declared: ParamSignature["params"], given: Record<string, Json>, hint: (name: string) => string): void {
  const missing = declared.filter((d) => !d.hasDefault && !Object.hasOwn(given, d.name));
  if (missing.length === 0) return;
  const list = missing.map((d) => `${d.name} (${typeToString(d.type)})`).join(", ");
  throw new OperatorError(`missing parameter${missing.length > 1 ? "s" : ""} ${list}: ${hint(missing[0].name)}`, "invalid");
}

function publishedSignature(runbook: string, params: ParamInfo[]): ParamSignature {
  return { name: runbook, params: params.map((p) => ({ name: p.name, type: p.typeData as unknown as Type, hasDefault: p.hasDefault })) };
}

/**
 * `--param` flags for a published runbook, whose parameters are stored with its version.
 * `requireAll` false: some may be left out (a webhook's fixed parameters, completed by its body).
 */
export function parseJobParams(runbook: string, params: ParamInfo[], flags: string[], requireAll = true): Record<string, Json> {
  return parseParams({ signature: publishedSignature(runbook, params) }, flags, requireAll);
}

/**
 * Parameters given as JSON (the HTTP API, a webhook's body) for a published runbook: the same
 * checks as `--param`, on values already parsed. A duration may be given as text ("30s") or
 * milliseconds, a time as any text Date.parse reads; both are stored as `--param` stores them.
 */
export function checkJobParams(runbook: string, params: ParamInfo[], values: unknown): Record<string, Json> {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new OperatorError(`the parameters of ${runbook} must be a JSON object of NAME: VALUE`, "invalid");
  }
  const signature = publishedSignature(runbook, params);
  const out: Record<string, Json> = {};
  for (const [name, raw] of Object.entries(values as Record<string, Json>)) {
    const p = declaredParam(signature, name);
    const value = normalize(raw, p.type);
    const problem = validateValue(value, p.type);
    if (problem) throw new OperatorError(`parameter ${name} (${typeToString(p.type)}): ${problem}`, "invalid");
    out[name] = value;
  }
  checkMissing(signature.params, out, (n) => `give "${n}"`);
  return out;
}
