// Session settings of the runtime's pools: the worker's idle-in-transaction timeout joins the
// `options` a DATABASE_URL already carries instead of replacing them (or being replaced).
import { describe, expect, it } from "vitest";
import { openDb, withSessionSettings } from "../../runtime/db/connect.js";
import { freshDatabaseUrl } from "../setup/db.js";

async function show(url: string, idleInTransactionMs: number | undefined, names: string[]): Promise<string[]> {
  const db = await openDb({ url, max: 1, idleInTransactionMs });
  try {
    const out: string[] = [];
    for (const n of names) out.push((await db.pool.query<Record<string, string>>(`SHOW ${n}`)).rows[0][n]);
    return out;
  } finally {
    await db.close();
  }
}

describe("worker session settings", () => {
  it("keeps the URL's own options and adds the idle-in-transaction timeout", async () => {
    const url = new URL(await freshDatabaseUrl());
    url.searchParams.set("options", "-c statement_timeout=4321 -c application_name=from_url");
    const got = await show(url.toString(), 7_000, ["statement_timeout", "application_name", "idle_in_transaction_session_timeout"]);
    expect(got).toEqual(["4321ms", "from_url", "7s"]);
  });

  it("sets the timeout on a URL without options, and nothing when none is asked for", async () => {
    const url = await freshDatabaseUrl();
    expect(await show(url, 2_500, ["idle_in_transaction_session_timeout"])).toEqual(["2500ms"]);
    const withOptions = new URL(url);
    withOptions.searchParams.set("options", "-c statement_timeout=1234");
    expect(await show(withOptions.toString(), undefined, ["statement_timeout", "idle_in_transaction_session_timeout"])).toEqual(["1234ms", "0"]);
  });

  it("appends after the URL's options, so its own setting of the timeout gives way", () => {
    const merged = new URL(withSessionSettings("postgres://u:p%40ss@db:5432/x?options=-c%20idle_in_transaction_session_timeout%3D1&sslmode=disable", ["idle_in_transaction_session_timeout=9000"]));
    expect(merged.searchParams.get("options")).toBe("-c idle_in_transaction_session_timeout=1 -c idle_in_transaction_session_timeout=9000");
    expect(merged.searchParams.get("sslmode")).toBe("disable");
    expect(merged.password).toBe("p%40ss");
    expect(withSessionSettings("/var/run/postgresql x", ["a=1"])).toBe("/var/run/postgresql x");
  });
});
