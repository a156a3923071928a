// The key-order test's activity. With KEY_ORDER_GATE set to a folder (in one worker's
// environment), `hold` writes a file named after the job and `at` there, then blocks until the
// job is aborted: the test sees the file, knows the job's latest checkpoint has committed, and
// kills the worker with the job in its hands. Without it, `hold` just returns `at`.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ActivityContext } from "../../../runtime/activity-context.js";

export async function hold(args: { at: string }, ctx: ActivityContext): Promise<string> {
  const dir = process.env.KEY_ORDER_GATE;
  if (!dir) return args.at;
  fs.writeFileSync(path.join(dir, `${ctx.jobId}.${args.at}`), "");
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  throw new Error("held until the job was aborted");
}
