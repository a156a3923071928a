// A job's values resume exactly as saved (issue 10, migration 0005): test/corpus/key-order's
// runbook prints the keys, walks and texts of maps jsonb would reorder (and strings it would
// refuse) after a checkpoint, an activity, a sleep and an await. `runbook test` (in memory, every
// interruption mode), `runbook run` (a real worker on the database, resuming from it after the
// sleep and the await) and a job whose worker is killed with kill -9 while it holds the job after
// its checkpoint (resumed by another worker process from the stored state) must print the same
// lines and end with the same result.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Cluster, waitFor } from "./harness.js";

const DIR = path.join("test", "corpus", "key-order");
const FILE = path.join(DIR, "key_order.runbook");

let c: Cluster;
let gate: string;
beforeAll(async () => {
  c = await Cluster.create([DIR]);
  gate = fs.mkdtempSync(path.join(os.tmpdir(), "key-order-gate-"));
});
afterAll(async () => {
  await c?.destroy();
  if (gate) fs.rmSync(gate, { recursive: true, force: true });
});

const resultOf = async (id: string) => /^result:\s+(.*)$/m.exec((await c.cli(["job", id])).stdout)?.[1];

it("prints the same lines and result in runbook test, runbook run and after a kill -9 resume", async () => {
  const tested = await c.cli(["test", FILE]);
  expect(tested.code, tested.stderr).toBe(0);
  const lines = tested.stdout;
  // The lines carry the insertion order, so a store that reorders cannot match them.
  expect(lines).toContain('await keys ["m","nested","odd","nums","strs"] m=["zz","a","mmm"] odd=["9","10","b","a"] nested=["outer","b"] outer=["zz","a"] inner=["bb","a"]\n');
  expect(lines).toContain('child keys ["zz","a","mmm"] ["9","10","b","aa"]\n');
  expect(lines).toContain('await strs ["a\\u0000b","x\\ud800y","é ☃ 😀","tab\\there"] lengths 3 3 6\n');
  expect(lines.split("\n").length).toBe(34);
  const result = /key_order: completed, result (.*)$/m.exec(tested.stderr)?.[1];
  expect(result).toMatch(/^\{"9":9,"10":"ten","zz":\{"zz":1,"a":2,"mmm":3\},/);

  // A real worker inside `runbook run`: the sleep and the await resume from the database.
  const ran = await c.cli(["run", FILE]);
  expect(ran.code, ran.stderr).toBe(0);
  expect(ran.stdout).toBe(lines);
  const runId = /^job (\S+)$/m.exec(ran.stderr)![1];
  expect(await resultOf(runId)).toBe(result);

  // kill -9 of the worker holding the job just after its checkpoint committed (gate.ts blocks
  // it there); another worker process resumes it from the stored state.
  await c.startWorker("holder", { env: { KEY_ORDER_GATE: gate } });
  const [id] = await c.enqueue("key_order", {});
  await waitFor("the job to reach the gate", async () => fs.existsSync(path.join(gate, `${id}.held`)));
  const { rows } = await c.db.pool.query<{ status: string; checkpoint_label: string }>("SELECT status, checkpoint_label FROM jobs WHERE id = $1", [id]);
  expect(rows[0]).toEqual({ status: "running", checkpoint_label: "maps" });
  await c.crash("holder");
  await c.startWorker("taker");
  await c.waitAll([id], "completed");
  const history = await c.history(id);
  expect(history.some((h) => h.worker === "taker" && h.reason === "lease of holder expired; resumed from the latest checkpoint")).toBe(true);
  const output = await c.cli(["output", id]);
  expect(output.code, output.stderr).toBe(0);
  expect(output.stdout).toBe(lines);
  expect(await resultOf(id)).toBe(result);
});

it("fails a job whose value cannot be stored, with the same sentence in runbook test and on a worker", async () => {
  const file = path.join(DIR, "too_deep.runbook");
  const message = "the job's state cannot be stored: it is nested too deeply (a few thousand levels at most)";
  // Placed at the statement after the checkpoint: where the job would have resumed.
  const line = fs.readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes("return len(v)")) + 1;
  const tested = await c.cli(["test", file]);
  expect(tested.code).toBe(1);
  expect(tested.stderr).toContain(`${file}:${line}:3: error: ${message}`);
  expect(tested.stdout).toBe("");

  const ran = await c.cli(["run", file]);
  expect(ran.code).toBe(1);
  expect(ran.stderr).toMatch(new RegExp(`job \\S+ failed: .*too_deep\\.runbook:${line}:3: ${message.replace(/[()]/g, "\\$&")}\\n`));
  expect(ran.stdout).toBe("");
  const id = /^job (\S+)$/m.exec(ran.stderr)![1];
  const history = await c.history(id);
  expect(history.map((h) => h.reason)).toContain("a value could not be stored");
});
