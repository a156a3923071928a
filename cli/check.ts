// `runbook check PATH...`: diagnostics as text on stderr (with a summary line), or as JSON or
// GitHub annotations on stdout. Exit 1 when there is an error, 0 otherwise, 2 for bad usage.
import { compile } from "../compiler/index.js";
import { REPORT_FORMATS, formatDiagnostics, type ReportFormat } from "../compiler/report.js";
import { CliError, refuseInput } from "./errors.js";

export interface CheckOutput {
  stdout: string;
  stderr: string;
  exitCode: 0 | 1;
}

export async function check(paths: string[], opts: { format?: string }): Promise<void> {
  const out = runCheck(paths, opts.format ?? "text");
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.exitCode;
}

/** What `runbook check` prints, without printing it (the golden tests compare this). */
export function runCheck(paths: string[], format: string): CheckOutput {
  if (!REPORT_FORMATS.includes(format as ReportFormat)) {
    throw new CliError(`unknown format ${format}; use one of ${REPORT_FORMATS.join(", ")}`, 2);
  }
  const { program: project, inputError } = compile({ paths }, { emit: false });
  refuseInput(inputError);
  const report = formatDiagnostics(project.diagnostics, project.sources, format as ReportFormat);
  const errors = project.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = project.diagnostics.length - errors;
  const files = new Set([...project.sources.keys(), ...project.diagnostics.map((d) => d.span.file)]).size;
  const summary = `${count(errors, "error")}, ${count(warnings, "warning")} in ${count(files, "file")}\n`;
  return format === "text"
    ? { stdout: "", stderr: report + summary, exitCode: errors ? 1 : 0 }
    : { stdout: report, stderr: summary, exitCode: errors ? 1 : 0 };
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
