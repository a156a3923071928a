// The PostgreSQL driver, as the runtime imports it: `import pg from "./db/pg.js"`, never from
// "pg" directly, so that pg's import skips the Cloudflare check that costs every command ~20 ms
// on Node 20 (runtime/db/pg-shim.ts says why and how). `import type pg from "pg"` is free and
// stays as it is. Modules are evaluated in import order: the shim, then pg, then this body.
import { lentNavigator } from "./pg-shim.js";
export { default } from "pg";

if (lentNavigator) delete (globalThis as { navigator?: unknown }).navigator;
