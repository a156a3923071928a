// The CLI reads parameters with the runtime's reader (runtime/params.ts), which the HTTP API and
// webhooks share; re-exported here for the commands and tests that import it from the CLI.
export { checkJobParams, parseDuration, parseJobParams, parseParams, readParam, type ParamSignature } from "../runtime/params.js";
