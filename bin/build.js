#!/usr/bin/env node
// @ts-check
// Compiles the CLI and runtime to JavaScript in dist/ (`npm run build`; npm runs it on
// `npm ci` and `npm install` as the `prepare` script), so a command starts without loading
// TypeScript: `runbook --version` in ~70 ms instead of ~250 ms (bench/startup.ts).
//
// esbuild compiles file by file (no bundling): dist/ has the sources' layout, so the CLI's
// per-command dynamic imports stay lazy and `new URL("../migrations/", import.meta.url)` finds
// the copies. Types are not checked here (`npm run typecheck` does that). The new build is
// written beside dist/ and moved into place, so a command started meanwhile sees the old build
// whole or none (and none means the sources, see bin/build-state.js).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { MANIFEST, OUT_DIR, SOURCE_DIRS, sourceStamps } from "./build-state.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Builds `root`'s sources into `root/dist`; returns the number of modules compiled.
 * @param {string} root
 */
export async function buildDist(root) {
  // Stamped before reading: a file edited during the build leaves the manifest stale, not wrong.
  const sources = sourceStamps(root);
  const tmp = path.join(root, `${OUT_DIR}.tmp-${process.pid}`);
  const old = path.join(root, `${OUT_DIR}.old-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  const files = Object.keys(sources).filter((f) => SOURCE_DIRS.some((d) => f.startsWith(`${d}/`)));
  for (const file of files) fs.cpSync(path.join(root, file), path.join(tmp, file));
  const entryPoints = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => path.join(root, f));
  try {
    await build({
      absWorkingDir: root,
      entryPoints,
      outdir: tmp,
      outbase: root,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "linked",
      logLevel: "silent", // errors are printed by the caller, one line each
    });
    fs.writeFileSync(path.join(tmp, MANIFEST), `${JSON.stringify({ builtAt: new Date().toISOString(), sources }, null, 1)}\n`);
    const dist = path.join(root, OUT_DIR);
    if (fs.existsSync(dist)) fs.renameSync(dist, old);
    fs.renameSync(tmp, dist);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(old, { recursive: true, force: true });
  }
  return entryPoints.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  try {
    const n = await buildDist(root);
    process.stdout.write(`runbook: built ${n} modules into ${OUT_DIR}/ in ${Math.round(performance.now() - started)} ms\n`);
  } catch (err) {
    process.stderr.write(failureLines(err).map((line) => `runbook: build failed: ${line}\n`).join(""));
    process.exitCode = 1;
  }
}

/**
 * One line per esbuild error (`file:line:column: message`), else the error's first line.
 * @param {unknown} err
 * @returns {string[]}
 */
function failureLines(err) {
  const errors = /** @type {{ errors?: import("esbuild").Message[] }} */ (err).errors;
  if (errors?.length) return errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ${e.text}` : e.text));
  return [err instanceof Error ? err.message.split("\n")[0] : String(err)];
}
