// ts-morph, and the TypeScript it bundles (the only TypeScript the compiler loads), for the
// back end. Loaded with require rather than `import`: an `import` of this CommonJS package makes
// Node scan its 1 MB source for export names and route its requires through the ESM loader
// (tsx's hooks), ~150 ms of CPU per `runbook compile` (measured: 400 → 250 ms to load it).
// Loaded on first use, not with the module: compiler/index.ts imports the back end, and a
// check alone (`runbook check`, the language server) never needs it.
import { createRequire } from "node:module";

type TsMorph = typeof import("ts-morph");

let loaded: TsMorph | undefined;

export function tsMorph(): TsMorph {
  loaded ??= createRequire(import.meta.url)("ts-morph") as TsMorph;
  return loaded;
}
