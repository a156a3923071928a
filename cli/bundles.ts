// Compiling runbooks for publishing (`publish`, `run FILE`): the CLI's part, since it reads files
// and prints diagnostics; storing the bundles is the operator API's (Operator.publish).
import * as path from "node:path";
import type { Bundle, BundleOptions } from "../runtime/publish.js";
import { CliError, refuseInput } from "./errors.js";

/**
 * Checks and compiles the runbooks at `paths` and bundles them for publishing. Diagnostics go to
 * stderr; a project with errors is refused (exit 1) before anything is stored.
 */
export async function compileBundles(paths: string[], options: BundleOptions = {}): Promise<{ bundles: Bundle[]; files: Map<string, string> }> {
  // The compiler (ts-morph) takes a second to load: only the commands that compile load it.
  const [{ compile }, { formatDiagnostics }, { bundleProject }] = await Promise.all([
    import("../compiler/index.js"),
    import("../compiler/report.js"),
    import("../runtime/publish.js"),
  ]);
  const { program: project, modules, inputError } = compile({ paths });
  refuseInput(inputError);
  const printed = formatDiagnostics(project.diagnostics, project.sources, "text");
  if (printed) process.stderr.write(printed.endsWith("\n") ? printed : `${printed}\n`);
  if (project.diagnostics.some((d) => d.severity === "error")) throw new CliError("nothing was published: fix the errors above", 1);
  if (project.runbooks.size === 0) throw new CliError(`no runbooks found in ${paths.join(", ")}`, 1);
  const files = new Map([...project.runbooks.values()].map((rb) => [path.resolve(rb.file), rb.signature.name]));
  const withSources = modules.map((m) => ({ ...m, source: project.sources.get(m.file) }));
  return { bundles: await bundleProject(withSources, options), files };
}
