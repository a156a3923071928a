// `--param k=v` for jobs of published runbooks: the same parsing as `runbook test` (one
// function, cli/test.ts `parseParams`), fed from the parameter list stored with the version
// (ParamInfo.typeData is the declared Type as data). Bad or missing parameters are refused
// here, before any job exists, with a message naming the parameter.
import type { CheckedRunbook } from "../compiler/checked.js";
import type { Type } from "../compiler/types.js";
import type { Json, ParamInfo } from "../runtime/abi.js";
import { parseParams } from "./test.js";

export function parseJobParams(runbook: string, params: ParamInfo[], flags: string[]): Record<string, Json> {
  const signature = {
    name: runbook,
    params: params.map((p) => ({ name: p.name, type: p.typeData as unknown as Type, hasDefault: p.hasDefault })),
  };
  // parseParams reads only the signature of the runbook it is given.
  return parseParams({ signature } as CheckedRunbook, flags);
}
