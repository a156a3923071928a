// A pooled client for several statements, and one transaction on it.
//
// A client lent out by the pool has no 'error' listener of the pool's (pg-pool removes it while
// the client is out). A session the server ends while the client sits between two statements
// (pg_terminate_backend, a restart) then emitted an unhandled 'error' event, which ends the
// whole process: a worker died of it under the chaos soak. Here the error is kept, the next
// statement fails with it, and the client is destroyed on release instead of going back.
import type pg from "pg";

export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let ended: Error | undefined;
  const onError = (e: Error) => (ended = e);
  client.on("error", onError);
  try {
    return await fn(client);
  } finally {
    client.removeListener("error", onError);
    client.release(ended);
  }
}

export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  });
}
