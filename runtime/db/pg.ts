// The PostgreSQL driver, as the runtime imports it: `import pg from "./db/pg.js"`, never from
// "pg" directly (`import type pg from "pg"` is free and stays as it is). Loading pg costs every
// command that touches the database, `runbook jobs` included, so it is loaded the cheap way:
// - pg asks at import whether it runs in a Cloudflare Worker: `navigator.userAgent` when there is
//   a `navigator`, else by building a `Response`. Node 20 has no `navigator`, and touching
//   `Response` loads Node's fetch (undici): ~20 ms of CPU for a check whose answer is always no
//   here. Node 21 and later define `navigator` (user agent "Node.js/21"), and pg reads that and
//   moves on; on Node 20 we lend it one for the length of the `require` only, so no other code
//   ever sees it.
// - pg is CommonJS: `require` skips its ESM wrapper and Node's scan of its exports (~7 ms).
// It is the same module instance as `import pg from "pg"` elsewhere (one CommonJS cache).
import { createRequire } from "node:module";
import type PG from "pg";

const g = globalThis as { navigator?: unknown };
const lend = g.navigator === undefined;
if (lend) g.navigator = { userAgent: `Node.js/${process.versions.node}` };
let driver: typeof PG;
try {
  driver = createRequire(import.meta.url)("pg") as typeof PG;
} finally {
  if (lend) delete g.navigator;
}

const pg = driver;
/** The driver's types under the same name, as `import pg from "pg"` gives them. */
declare namespace pg {
  export type Pool = PG.Pool;
  export type Client = PG.Client;
  export type ClientConfig = PG.ClientConfig;
}
export default pg;
