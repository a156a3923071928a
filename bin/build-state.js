// @ts-check
// Whether the compiled JavaScript in dist/ is current: one rule, used by bin/runbook.js (which
// runs dist/ only when it is) and bin/build.js (which writes it).
//
// dist/ mirrors the source folders: each `X.ts` compiled to `X.js`, every file copied as it is
// (the SQL migrations, and the .ts files some modules read as text, such as runtime/abi.ts).
// dist/manifest.json records each source file's size and modification time when it was built.
// The build is current when the source folders hold exactly those files with those sizes and
// times: an edit, a `git checkout`, a new or a deleted file all make it stale, and a stale build
// is never run (the bin runs the TypeScript sources through tsx instead). Plain JavaScript, so
// checking costs no TypeScript loader: about 2 ms for ~150 files.
import * as fs from "node:fs";
import * as path from "node:path";

/** The folders compiled into dist/; the CLI imports nothing outside them. */
export const SOURCE_DIRS = ["grammar", "format", "compiler", "lsp", "runtime", "cli"];
/** Files outside SOURCE_DIRS whose change changes the output. */
export const SOURCE_FILES = ["tsconfig.json"];
export const OUT_DIR = "dist";
export const MANIFEST = "manifest.json";

/**
 * Every source file under `root`, as `relative path → "size:mtimeMs"`, sorted by path.
 * @param {string} root
 * @returns {Record<string, string>}
 */
export function sourceStamps(root) {
  /** @type {string[]} */
  const files = [...SOURCE_FILES];
  // Every command pays this (~200 files), so paths are sliced and joined as strings, not through
  // path.relative/path.join (which resolve against the working directory each time).
  for (const dir of SOURCE_DIRS) {
    const top = path.join(root, dir);
    for (const entry of fs.readdirSync(top, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(`${dir}${(entry.parentPath ?? entry.path).slice(top.length)}${path.sep}${entry.name}`);
    }
  }
  /** @type {Record<string, string>} */
  const stamps = {};
  const base = `${root}${path.sep}`;
  for (const file of files.sort()) {
    const st = fs.statSync(base + file);
    stamps[file] = `${st.size}:${st.mtimeMs}`;
  }
  return stamps;
}

/**
 * Why the build under `root` cannot be run, or null when it is current.
 * @param {string} root
 * @returns {string | null}
 */
export function staleReason(root) {
  let built;
  try {
    built = JSON.parse(fs.readFileSync(path.join(root, OUT_DIR, MANIFEST), "utf8")).sources;
  } catch {
    return `no build in ${OUT_DIR}/`;
  }
  const now = sourceStamps(root);
  for (const [file, stamp] of Object.entries(now)) {
    if (built[file] === undefined) return `${file} is new since the build`;
    if (built[file] !== stamp) return `${file} changed since the build`;
  }
  for (const file of Object.keys(built)) if (now[file] === undefined) return `${file} was removed since the build`;
  return null;
}
