// chevrotain, loaded from the one-file ES module bundle its package ships (lib/chevrotain.mjs)
// instead of its package entry (lib/src/api.js). The entry is ~150 modules that import lodash-es
// function by function: ~700 more modules and ~2,300 resolutions, each through tsx's loader
// thread, which cost most of a second of start-up in every `runbook` process. The bundle is the
// same release built from the same sources. Every file of grammar/ imports chevrotain's values
// from here (types may still come from "chevrotain": they are erased).
import { createRequire } from "node:module";
import * as fs from "node:fs";
import { pathToFileURL } from "node:url";

type Chevrotain = typeof import("chevrotain");

async function load(): Promise<Chevrotain> {
  try {
    const entry = createRequire(import.meta.url).resolve("chevrotain"); // .../lib/src/api.js
    const bundle = entry.replace(/[\\/]src[\\/]api\.js$/, "/chevrotain.mjs");
    if (bundle !== entry && fs.existsSync(bundle)) return (await import(pathToFileURL(bundle).href)) as Chevrotain;
  } catch {
    // fall through to the package entry
  }
  return import("chevrotain");
}

const lib = await load();
export const { createToken, createTokenInstance, CstParser, EOF, isRecognitionException, Lexer, tokenMatcher } = lib;
