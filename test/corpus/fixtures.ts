// Corpus fixtures: `.runbook` files that carry their own expectations in comments, worked out
// by hand from the language's semantics (jlox style):
//
//   # expect: TEXT              one output record, in order (strings as they are, else JSON)
//   # expect-result: JSON       the job's result
//   # expect-error: MESSAGE     the job fails with this message ...
//   # expect-error-at: NAME:LINE  ... raised in runbook NAME at this line of its file
//   # expect-suspensions: N     suspension points the job's own frames reach (straight run)
//   # param: NAME=VALUE         a job parameter, as `runbook test --param` reads it
//   # signal: NAME=JSON         a signal in the job's mailbox before it starts
//
// A file with none of the expect lines is a helper that fixtures call or start.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface Fixture {
  name: string;
  file: string;
  outputs: string[];
  result: string | undefined;
  error: string | undefined;
  errorAt: string | undefined;
  suspensions: number | undefined;
  params: string[];
  signals: string[];
}

const DIRECTIVE = /^#\s*(expect|expect-result|expect-error|expect-error-at|expect-suspensions|param|signal):\s?(.*)$/;

export function readFixture(file: string): Fixture | null {
  const f: Fixture = { name: path.basename(file, ".runbook"), file, outputs: [], result: undefined, error: undefined, errorAt: undefined, suspensions: undefined, params: [], signals: [] };
  let isFixture = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = DIRECTIVE.exec(line.trimEnd());
    if (!m) continue;
    const [, key, value] = m;
    if (key.startsWith("expect")) isFixture = true;
    switch (key) {
      case "expect":
        f.outputs.push(value);
        break;
      case "expect-result":
        f.result = value;
        break;
      case "expect-error":
        f.error = value;
        break;
      case "expect-error-at":
        f.errorAt = value;
        break;
      case "expect-suspensions":
        f.suspensions = Number(value);
        break;
      case "param":
        f.params.push(value);
        break;
      case "signal":
        f.signals.push(value);
        break;
    }
  }
  return isFixture ? f : null;
}

export function readFixtures(dir: string): Fixture[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".runbook"))
    .sort()
    .map((n) => readFixture(path.join(dir, n)))
    .filter((f): f is Fixture => f !== null);
}
