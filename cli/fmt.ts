// `runbook fmt [--check] PATHS`: rewrites runbook files in the canonical layout (docs/fmt.md).
// The formatting itself is format/format.ts; this only finds files, writes them and reports.
import * as fs from "node:fs";
import { findRunbookFiles } from "../compiler/program.js";
import { formatDiagnostics } from "../compiler/report.js";
import { format } from "../format/format.js";
import { CliError } from "./errors.js";

export async function fmt(paths: string[], opts: { check?: boolean }): Promise<void> {
  let failed = false;
  const files = findRunbookFiles(paths);
  if (!Array.isArray(files)) throw new CliError(files.message, 2);
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const r = format(file, text);
    switch (r.kind) {
      case "invalid":
        // Left untouched: a formatter must not guess what a broken file means.
        process.stderr.write(formatDiagnostics(r.diagnostics, new Map([[file, text]]), "text"));
        failed = true;
        break;
      case "refused":
        process.stderr.write(`runbook: ${r.reason}\n`);
        failed = true;
        break;
      case "formatted":
        if (!r.changed) break;
        if (opts.check) {
          process.stdout.write(`${file}\n`);
          failed = true;
        } else {
          fs.writeFileSync(file, r.text);
        }
        break;
    }
  }
  if (failed) process.exitCode = 1;
}
