// The one printer of the CLI: JSON documents, tables, `key: value` records, summary lines and
// stream records. Commands decide what to print; how it looks is decided here, once.
import type { ErrorRecord, Json, StreamName } from "../runtime/abi.js";
import type { StreamRow } from "../runtime/rows.js";

/** One JSON document on stdout, as every `--json` prints. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One JSON value per line (records that arrive one by one, for `| head` or `jq`). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")}\n`);
}

/** `key:` padded, then the value: one object shown as lines. */
export function printFields(fields: [string, string][]): void {
  for (const [k, v] of fields) process.stdout.write(`${`${k}:`.padEnd(12)}${v}\n`);
}

/** A summary line on stdout ("job 42: suspended"). */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A note for the person at the terminal, on stderr (stdout stays the command's data). */
export function printNote(text: string): void {
  process.stderr.write(`runbook: ${text}\n`);
}

/** A warning on stderr. */
export function printWarning(text: string): void {
  process.stderr.write(`warning: ${text}\n`);
}

const PREFIX: Record<StreamName, string> = { output: "", log: "log: ", warn: "warning: ", error: "error: " };

/** Strings as they are, everything else as JSON. */
export function recordText(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** A stream record as `runbook run` prints it: output on stdout, the other streams on stderr. */
export function printRecord(r: { stream: StreamName | string; value: Json; branch?: string }): void {
  const { to, line } = recordLine(r);
  (to === "stdout" ? process.stdout : process.stderr).write(`${line}\n`);
}

/** Where a stream record is printed and its line (`runbook run`, `output --follow`, `runbook test`). */
export function recordLine(r: { stream: StreamName | string; value: Json; branch?: string }): { to: "stdout" | "stderr"; line: string } {
  // A `parallel for` branch's record (output --follow of its parent): marked with its element.
  const mark = r.branch === undefined ? "" : `[${r.branch}] `;
  if (r.stream === "output") return { to: "stdout", line: `${mark}${recordText(r.value)}` };
  return { to: "stderr", line: `${mark}${PREFIX[r.stream as StreamName] ?? `${r.stream}: `}${recordText(r.value)}` };
}

/** A stream record as one JSON line `{"seq","stream","value","at"}` (`output --json`). */
export function printRecordJson(r: StreamRow): void {
  const branch = r.branch === undefined ? {} : { branch: r.branch, job: r.job_id };
  printJsonLine({ seq: r.seq, stream: r.stream, value: r.value, at: r.at, ...branch });
}

export function errorLine(e: ErrorRecord): string {
  return e.file ? `${e.file}:${e.line}:${e.column}: ${e.message}` : e.message;
}
