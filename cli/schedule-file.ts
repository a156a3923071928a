// The schedules file: `schedules.cron` beside the runbooks, applied by `runbook publish`
// (docs/runtime.md, "The schedules file"). One schedule a line, crontab-like:
//
//   # NAME         CRON (5 or 6 fields)  RUNBOOK  OPTIONS
//   nightly-backup 0 2 * * *             backup   tz=Europe/Paris catchup=1h param:target=db1
//
// Options: tz=, overlap=, catchup=, group=, and param:NAME=VALUE (read like --param); a value
// with spaces is written as a JSON string ("..."). Reading a file gives entries and diagnostics
// (values, with file:line:column spans); nothing here touches the database.
import type { Span } from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { Overlap } from "../runtime/rows.js";
import { checkCatchup, checkCron, checkGroup, checkName, checkOverlap, checkZone, type Checked } from "./schedule-spec.js";

export const SCHEDULES_FILE = "schedules.cron";

/** Diagnostic codes of the schedules file. */
export const CODES = {
  syntax: "RB4001",
  value: "RB4002",
  duplicate: "RB4003",
  runbook: "RB4004",
  param: "RB4005",
  owner: "RB4006",
} as const;

interface Token {
  text: string;
  /** The value: the text, or the string a JSON-quoted token stands for. */
  value: string;
  span: Span;
}

export interface Entry {
  name: string;
  cron: string;
  runbook: string;
  tz: string;
  overlap: Overlap;
  catchupMs: number;
  group: string | null;
  /** `--param` flags (NAME=VALUE), each with where it stands, checked once the runbook is known. */
  params: { flag: string; span: Span }[];
  nameSpan: Span;
  runbookSpan: Span;
}

export interface ScheduleFile {
  file: string;
  entries: Entry[];
  diagnostics: Diagnostic[];
}

const OPTIONS = ["tz", "overlap", "catchup", "group"] as const;

export function readScheduleFile(file: string, text: string): ScheduleFile {
  const entries: Entry[] = [];
  const diagnostics: Diagnostic[] = [];
  const error = (code: string, span: Span, message: string, hint?: string) => diagnostics.push({ severity: "error", code, message, span, ...(hint ? { hint } : {}) });
  const seen = new Map<string, Span>();
  let offset = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    const lineOffset = offset;
    offset += raw.length + 1;
    const tokens = tokenize(file, line, i + 1, lineOffset);
    if ("problem" in tokens) return void error(CODES.syntax, tokens.span, tokens.problem);
    if (tokens.length === 0) return;
    const firstOption = tokens.findIndex((t, k) => k > 0 && t.text.includes("="));
    const head = firstOption < 0 ? tokens : tokens.slice(0, firstOption);
    const options = firstOption < 0 ? [] : tokens.slice(firstOption);
    // NAME, five or six cron fields, RUNBOOK: nothing else has no `=`.
    if (head.length !== 7 && head.length !== 8) {
      const at = head.length > 8 ? head[8].span : spanOf(file, i + 1, lineOffset, line.length, line.length);
      return void error(CODES.syntax, at, `a schedule line is NAME, a cron of 5 or 6 fields, then RUNBOOK and options; this one has ${head.length} word${head.length === 1 ? "" : "s"} before its options`, "like: nightly 0 2 * * * backup tz=Europe/Paris");
    }
    const nameTok = head[0];
    const cronToks = head.slice(1, -1);
    const runbookTok = head[head.length - 1];
    const cronSpan: Span = { file, start: cronToks[0].span.start, end: cronToks[cronToks.length - 1].span.end };
    let bad = false;
    const take = <T>(c: Checked<T>, span: Span): T | undefined => {
      if (c.ok) return c.value;
      bad = true;
      error(CODES.value, span, c.problem);
      return undefined;
    };
    const name = take(checkName(nameTok.value), nameTok.span);
    const opts: Partial<Record<(typeof OPTIONS)[number], Token>> = {};
    const params: Entry["params"] = [];
    for (const t of options) {
      const eq = t.text.indexOf("=");
      const key = t.text.slice(0, eq);
      const value = unquote(t.text.slice(eq + 1));
      if (value === null) {
        bad = true;
        error(CODES.syntax, t.span, `the value of ${key} is not a valid JSON string`);
        continue;
      }
      const valueTok = { ...t, value };
      if (key.startsWith("param:") && key.length > "param:".length) params.push({ flag: `${key.slice("param:".length)}=${value}`, span: t.span });
      else if ((OPTIONS as readonly string[]).includes(key)) {
        if (opts[key as (typeof OPTIONS)[number]]) {
          bad = true;
          error(CODES.syntax, t.span, `option ${key} is given twice`);
        }
        opts[key as (typeof OPTIONS)[number]] = valueTok;
      } else {
        bad = true;
        error(CODES.syntax, t.span, `unknown option ${key || "(empty)"}`, "options are tz=, overlap=, catchup=, group= and param:NAME=VALUE");
      }
    }
    const tz = opts.tz ? take(checkZone(opts.tz.value), opts.tz.span) : "UTC";
    const cron = tz === undefined ? undefined : take(checkCron(cronToks.map((t) => t.value).join(" "), tz), cronSpan);
    const overlap = opts.overlap ? take(checkOverlap(opts.overlap.value), opts.overlap.span) : "skip";
    const catchupMs = opts.catchup ? take(checkCatchup(opts.catchup.value), opts.catchup.span) : 0;
    const group = opts.group ? take(checkGroup(opts.group.value), opts.group.span) : null;
    if (name !== undefined) {
      const before = seen.get(name);
      if (before) {
        bad = true;
        diagnostics.push({ severity: "error", code: CODES.duplicate, message: `schedule ${name} is declared twice`, span: nameTok.span, related: [{ message: "first declared here", span: before }] });
      } else seen.set(name, nameTok.span);
    }
    if (bad || name === undefined || cron === undefined || tz === undefined || overlap === undefined || catchupMs === undefined || group === undefined) return;
    entries.push({ name, cron, runbook: runbookTok.value, tz, overlap, catchupMs, group, params, nameSpan: nameTok.span, runbookSpan: runbookTok.span });
  });
  return { file, entries, diagnostics };
}

function spanOf(file: string, line: number, lineOffset: number, from: number, to: number): Span {
  return { file, start: { line, column: from + 1, offset: lineOffset + from }, end: { line, column: to + 1, offset: lineOffset + to } };
}

/**
 * The words of a line up to a `#` comment; a `"` starts a JSON string that may hold spaces and
 * runs to its closing quote (so `param:msg="a b"` is one word).
 */
function tokenize(file: string, line: string, lineNo: number, lineOffset: number): Token[] | { problem: string; span: Span } {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i])) {
      i++;
      continue;
    }
    if (line[i] === "#") break;
    const start = i;
    while (i < line.length && !/\s/.test(line[i])) {
      if (line[i] === '"') {
        i++;
        while (i < line.length && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
        if (i >= line.length) return { problem: "this quoted value has no closing quote", span: spanOf(file, lineNo, lineOffset, start, line.length) };
      }
      i++;
    }
    const text = line.slice(start, i);
    out.push({ text, value: text, span: spanOf(file, lineNo, lineOffset, start, i) });
  }
  return out;
}

/** A bare value as it is; a "quoted" one as the JSON string it is (null: not valid JSON). */
function unquote(v: string): string | null {
  if (!v.startsWith('"')) return v;
  try {
    const s = JSON.parse(v) as unknown;
    return typeof s === "string" ? s : null;
  } catch {
    return null;
  }
}
