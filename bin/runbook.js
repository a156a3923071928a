#!/usr/bin/env node
// Entry point of the `runbook` command. It runs the compiled JavaScript in dist/ (built by
// `npm ci` / `npm install` through the `prepare` script, or `npm run build`) when that build
// is current, and otherwise the TypeScript sources through tsx's loader: same behaviour, about
// 200 ms slower to start. A stale build is never run (bin/build-state.js says when it is).
// RUNBOOK_FROM_SOURCE=1 runs the sources whatever the build.
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { OUT_DIR, staleReason } from "./build-state.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stale = process.env.RUNBOOK_FROM_SOURCE ? "RUNBOOK_FROM_SOURCE is set" : staleReason(root);
if (stale === null) {
  await import(pathToFileURL(path.join(root, OUT_DIR, "cli", "main.js")).href);
} else {
  if (process.env.RUNBOOK_DEBUG) process.stderr.write(`runbook: running the TypeScript sources (${stale}; \`npm run build\` to refresh)\n`);
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
