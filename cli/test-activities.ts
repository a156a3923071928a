// How `runbook test`'s straight run answers an activity call (the interrupted runs replay these
// answers: runtime/memory.ts). In this order:
// 1. a mock (--mock, fixtures "activities"): the canned answer; the module is never loaded;
// 2. `asset(name)`: the fake asset (--asset, --secret, fixtures), never a stored one;
//    `asset_set(...)` stores into the fakes (a later `asset()` of the run reads it back);
// 3. `sql(...)`: the throw-away database of its connection (cli/test-database.ts);
// 4. anything else runs live (the module's code, a real exec or http), unless --offline.
//
// A call the fakes cannot answer as asked (an unmocked call under --offline, an asset nobody
// faked, a mock whose answers ran out, an argument that does not fit its declared type, no
// database for sql) fails as an activity error, so the run goes on as it would, and is also
// recorded in `problems`: the test then fails even if the runbook caught the error.
import { RunbookFault, type Json } from "../runtime/abi.js";
import { checkAssetName, checkSecretValue, secretStrings } from "../runtime/builtins/asset.js";
import { sql } from "../runtime/builtins/sql.js";
import type { MemoryActivity } from "../runtime/memory.js";
import { validateValue } from "../compiler/types.js";
import { DEFAULT_CONNECTION } from "../runtime/builtins/sql-connections.js";
import type { ThrowAwayDatabases } from "./test-database.js";
import type { Answer, Fakes, Mock, ProjectActivities } from "./test-fakes.js";

export interface CallCounts {
  /** Answered by a mock. */
  mocked: number;
  /** Answered by a fake asset or the throw-away database. */
  faked: number;
  /** Ran for real. */
  live: number;
  /** Failed by the fakes: a problem (below) the test reports. */
  refused: number;
}

export class TestActivities {
  /** Setup problems found during the run, each one line, without repeats. */
  readonly problems: string[] = [];
  readonly counts: CallCounts = { mocked: 0, faked: 0, live: 0, refused: 0 };
  /**
   * Every fake secret's texts, to mask in what the test prints: the given ones and those the run
   * stored with asset_set (a rotated secret's old value stays masked too).
   */
  readonly secretTexts: Set<string>;
  /** Calls answered so far per mock key (the index of the next answer of a sequence). */
  private readonly answered = new Map<string, number>();

  constructor(
    private readonly fakes: Fakes,
    private readonly activities: ProjectActivities,
    private readonly databases: ThrowAwayDatabases,
    private readonly live: MemoryActivity,
  ) {
    this.secretTexts = new Set([...fakes.assets.values()].filter((a) => a.secret).flatMap((a) => secretStrings(a.value)));
  }

  readonly activity: MemoryActivity = async (module, fn, args, call) => {
    const key = module === "" ? fn : `${module}.${fn}`;
    const mock = this.fakes.mocks.get(key);
    if (mock) {
      this.checkArgs(key, call.caller.name, module, fn, args);
      const answer = this.answer(mock);
      this.counts.mocked++;
      if ("error" in answer) throw new RunbookFault(answer.error, structuredClone(answer.data));
      return structuredClone(answer.result);
    }
    if (module === "" && fn === "asset") {
      const value = this.asset(args.name);
      this.counts.faked++;
      return value;
    }
    if (module === "" && fn === "asset_set") {
      this.assetSet(args);
      this.counts.faked++;
      return null;
    }
    if (module === "" && fn === "sql") {
      const connection = args.connection ?? DEFAULT_CONNECTION;
      if (typeof connection !== "string") throw new Error(`sql connection must be a name (a string), got ${JSON.stringify(connection)}`);
      const query = await this.databases.connection(connection).catch((e: unknown) => this.fail((e as Error).message));
      this.counts.faked++;
      return sql({ query: args.query, params: args.params, connection }, query);
    }
    if (this.fakes.offline) this.fail(`${key} has no mock and --offline lets nothing run live (add --mock ${key}=JSON)`);
    this.counts.live++;
    return this.live(module, fn, args, call);
  };

  /** Records a problem and fails the call with it. */
  private fail(problem: string): never {
    this.counts.refused++;
    if (!this.problems.includes(problem)) this.problems.push(problem);
    throw new Error(`runbook test: ${problem}`);
  }

  private answer(mock: Mock): Answer {
    const n = this.answered.get(mock.key) ?? 0;
    this.answered.set(mock.key, n + 1);
    const answer = mock.every ? mock.answers[0] : mock.answers[n];
    if (!answer) this.fail(`${mock.key} was called ${plural(n + 1, "time")}, but ${mock.source} has ${plural(mock.answers.length, "answer")}`);
    return answer;
  }

  private asset(name: Json | undefined): Json {
    if (typeof name !== "string") throw new Error(`asset name must be a string, got ${JSON.stringify(name ?? null)}`);
    const fake = this.fakes.assets.get(name);
    if (!fake) this.fail(`asset ${JSON.stringify(name)} is not faked: runbook test never reads stored assets (pass --asset ${name}=VALUE or --secret ${name}=VALUE)`);
    return structuredClone(fake.value);
  }

  /**
   * `asset_set(name, value, secret?)` into the fakes, checked as the real one checks: with
   * `secret` left out an existing asset keeps its kind and a new one is a variable.
   */
  private assetSet(args: Record<string, Json>): void {
    const { name, value } = args;
    const secret = args.secret ?? null;
    if (typeof name !== "string") throw new Error(`asset_set name must be a string, got ${JSON.stringify(name ?? null)}`);
    if (secret !== null && typeof secret !== "boolean") throw new Error(`asset_set secret must be true or false, got ${JSON.stringify(secret)}`);
    if (value === undefined || value === null) throw new Error(`asset_set ${name}: the value must not be null`);
    checkAssetName(name);
    const isSecret = secret ?? this.fakes.assets.get(name)?.secret ?? false;
    if (isSecret) {
      checkSecretValue(value);
      for (const t of secretStrings(value)) this.secretTexts.add(t);
    }
    this.fakes.assets.set(name, { value: structuredClone(value), secret: isSecret });
  }

  /** A mocked call's arguments must fit the declared parameter types, as the real one's would. */
  private checkArgs(key: string, runbook: string, module: string, fn: string, args: Record<string, Json>): void {
    const sig = this.activities.signature(runbook, module, fn);
    if (!sig) return; // only a call the compiler checked can get here
    for (const p of sig.params) {
      const v = args[p.name];
      if ((v === undefined || v === null) && p.optional) continue;
      const problem = validateValue(v ?? null, p.type);
      if (problem) this.fail(`${key} was called with an argument ${p.name} that does not fit its declared type: ${problem}`);
    }
  }
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}
