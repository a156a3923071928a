// Runbook diagnostics → LSP diagnostics: the message with its hint on a second line, the code,
// and the related places (the first declaration of a redeclared name...) as related information.
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { spanToLocation, spanToRange } from "./positions.js";

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  const out: LspDiagnostic = {
    range: spanToRange(d.span),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "runbook",
    message: d.hint ? `${d.message}\n${d.hint}` : d.message,
  };
  if (d.related?.length) out.relatedInformation = d.related.map((r) => ({ location: spanToLocation(r.span), message: r.message }));
  return out;
}
