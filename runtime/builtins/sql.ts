// `sql(query, params?, connection?)`: one parameterized statement, rows as JSON maps. The
// connection (never the runtime's own database) is chosen by runtime/builtins/sql-connections.ts.
//
// The query text is the runbook's; values only ever travel as parameters ($1..$n), never
// spliced into the text. Rows are made JSON-safe: timestamps become ISO strings, int8/numeric
// become numbers when that loses nothing and strings otherwise, bytea becomes "\x..." hex.
import type { Json } from "../abi.js";

/** The database access the host is given (a pg Pool's or Client's `query` fits). */
export type QueryFn = (
  text: string,
  params: unknown[],
) => Promise<{ rows: Record<string, unknown>[]; fields?: { name: string; dataTypeID: number }[] }>;

export interface SqlArgs {
  query: Json;
  params?: Json;
  /** The connection's name, for errors only (runtime/builtins/sql-connections.ts picks it). */
  connection?: string;
}

// PostgreSQL type OIDs that need converting.
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;

export async function sql(args: SqlArgs, query: QueryFn | undefined): Promise<Json[]> {
  if (!query) throw new Error("sql is not available here: no runbook database is connected");
  if (typeof args.query !== "string" || args.query.trim() === "") throw new Error("sql needs the query text as a non-empty string");
  const params = args.params ?? [];
  if (!Array.isArray(params)) throw new Error("sql params must be a list (the values of $1, $2, ...)");
  const result = await query(args.query, params.map(toParam)).catch((err: unknown) => {
    throw new Error(`sql failed${args.connection ? ` on connection ${args.connection}` : ""}: ${pgMessage(err)}`);
  });
  const types = new Map((result.fields ?? []).map((f) => [f.name, f.dataTypeID]));
  return (result.rows ?? []).map((row) => {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(row)) out[k] = toJson(v, types.get(k));
    return out;
  });
}

/** Objects go to PostgreSQL as JSON text (for json/jsonb columns); lists as arrays. */
function toParam(v: Json): unknown {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) return JSON.stringify(v);
  return v;
}

export function toJson(v: unknown, type?: number): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") {
    if (type === INT8 || type === NUMERIC) return numberIfExact(v);
    return v;
  }
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "boolean") return v;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return null;
    if (type === DATE) {
      // pg reads a `date` as local midnight: print it back as the same calendar day.
      const p = (n: number) => String(n).padStart(2, "0");
      return `${v.getFullYear()}-${p(v.getMonth() + 1)}-${p(v.getDate())}`;
    }
    return v.toISOString();
  }
  if (Buffer.isBuffer(v)) return `\\x${v.toString("hex")}`;
  if (Array.isArray(v)) return v.map((e) => toJson(e, type));
  if (typeof v === "object") {
    const out: { [key: string]: Json } = {};
    for (const [k, e] of Object.entries(v as Record<string, unknown>)) out[k] = toJson(e);
    return out;
  }
  return String(v);
}

/** "42" → 42, "1.50" → 1.5; "12345678901234567890" stays a string (a number would round it). */
function numberIfExact(s: string): Json {
  const n = Number(s);
  if (!Number.isFinite(n)) return s; // NaN, Infinity
  if (Number.isInteger(n)) return Number.isSafeInteger(n) ? n : s;
  const digits = s.replace(/^-/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return digits.length <= 15 ? n : s;
}

function pgMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { position?: string; code?: string };
  return e.code ? `${e.message} (SQLSTATE ${e.code})` : e.message;
}
