// Runs before `pg` is evaluated (see runtime/db/pg.ts, which imports this module first).
// pg asks at import whether it runs in a Cloudflare Worker: `navigator.userAgent` when there is
// a `navigator`, else by building a `Response`. Node 20 has no `navigator`, and touching
// `Response` loads Node's fetch (undici): ~20 ms of CPU at every start of every command, for
// a check whose answer is always no here. Node 21 and later define `navigator` (user agent
// "Node.js/21"), and pg reads that and moves on; on Node 20 we lend it one for the length of
// pg's import, and runtime/db/pg.ts takes it back straight after, so no other code sees it.
const g = globalThis as { navigator?: unknown };

/** Whether we lent a navigator (and runtime/db/pg.ts must take it back). */
export const lentNavigator = g.navigator === undefined;
if (lentNavigator) g.navigator = { userAgent: `Node.js/${process.versions.node}` };
