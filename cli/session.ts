// A command's connection to the runtime: the database, and the operator API acting as the
// person at the terminal (`operator $USER` in the jobs' history).
import { openDb, type Db } from "../runtime/db/connect.js";
import { Operator } from "../runtime/operator/index.js";

export async function withDb<T>(fn: (db: Db) => Promise<T>, max = 2): Promise<T> {
  const db = await openDb({ max });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Who the CLI acts as, in the jobs' history. */
export function cliActor(): string {
  return `operator ${process.env.USER ?? process.env.USERNAME ?? "unknown"}`;
}

export function withOperator<T>(fn: (op: Operator) => Promise<T>, max = 2): Promise<T> {
  return withDb((db) => fn(new Operator(db, cliActor())), max);
}
