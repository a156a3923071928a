// The web console: static pages served by `runbook serve` under /console/, which talk to the
// JSON API of the same server (runtime/server/app.ts) with the session cookie. Plain ES modules
// in runtime/server/console/, no bundler: a browser loads them as they are.
//
// The files are read once, when the app is made, and served from memory: no path from a request
// ever reaches the file system. Modules the CLI shares with the console are TypeScript files
// transpiled here (esbuild, already a dependency), so a rule such as "3m 12s" lives in one place:
//   /console/shared/human-time.js  ←  cli/human-time.ts
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Context, Env, Hono } from "hono";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PAGES_DIR = path.join(HERE, "console");
/** Served path under /console/ → the TypeScript module it is transpiled from. */
const SHARED: Record<string, string> = {
  "shared/human-time.js": path.join(HERE, "..", "..", "cli", "human-time.ts"),
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * Scripts, styles and requests only from this server; no frames, no inline script. Every page
 * builds its DOM with textContent, never innerHTML, so a job's output cannot become markup.
 */
const HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

interface Asset {
  type: string;
  body: string;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of fs.readdirSync(PAGES_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const type = TYPES[path.extname(file)];
    if (type) assets.set(path.relative(PAGES_DIR, file).split(path.sep).join("/"), { type, body: fs.readFileSync(file, "utf8") });
  }
  const { transform } = await import("esbuild");
  for (const [served, source] of Object.entries(SHARED)) {
    const { code } = await transform(fs.readFileSync(source, "utf8"), { loader: "ts", format: "esm", target: "es2022" });
    assets.set(served, { type: TYPES[".js"], body: code });
  }
  return assets;
}

/** Serves the console at /console/ (and redirects / there). Call before the app's notFound. */
export function serveConsole<E extends Env>(app: Hono<E>): void {
  let assets: Promise<Map<string, Asset>> | undefined;
  const send = async (c: Context<E>, name: string) => {
    assets ??= loadAssets();
    const asset = (await assets).get(name);
    if (!asset) return c.json({ error: `no such console file: ${name}` }, 404);
    return c.body(asset.body, 200, { ...HEADERS, "content-type": asset.type });
  };
  app.get("/", (c) => c.redirect("/console/"));
  app.get("/console", (c) => c.redirect("/console/"));
  app.get("/console/", (c) => send(c, "index.html"));
  app.get("/console/*", (c) => send(c, c.req.path.slice("/console/".length)));
}
