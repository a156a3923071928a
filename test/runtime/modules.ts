// Hand-written compiled runbooks as module text (what the back end emits and `publish` stores),
// so the runtime's tests do not depend on the compiler. Each step body is the source of an async
// function `(frame, ctx, input, L)` where L = frame.locals, written the way emitted code is: a
// switch on frame.pc, returning one StepResult per suspension point.
import type { ParamInfo, Placement } from "../../runtime/abi.js";
import type { ModuleText } from "../../runtime/publish.js";

export interface HandModule {
  name: string;
  body: string;
  params?: ParamInfo[];
  calls?: string[];
  uses?: Record<string, string>;
  live?: Record<number, string[]>;
  /** The header's group and concurrency, as the compiler emits them. */
  placement?: Placement;
}

export function param(name: string, type: string, typeData: unknown, hasDefault = false): ParamInfo {
  return { name, type, typeData: typeData as never, hasDefault };
}

export function moduleText(m: HandModule): ModuleText {
  const js = `export const runbook = {
  name: ${JSON.stringify(m.name)},
  file: ${JSON.stringify(`${m.name}.runbook`)},
  params: ${JSON.stringify(m.params ?? [])},
  returns: null,
  canSuspend: true,
  calls: ${JSON.stringify(m.calls ?? [])},
  uses: ${JSON.stringify(m.uses ?? {})},
  live: ${JSON.stringify(m.live ?? {})},
  positions: { 0: [1, 1] },${m.placement ? `
  placement: ${JSON.stringify(m.placement)},` : ""}
  async step(frame, ctx, input) {
    const L = frame.locals;
    ${m.body}
  },
};
`;
  return { name: m.name, file: `${m.name}.runbook`, js, params: m.params ?? [], calls: m.calls ?? [], uses: m.uses ?? {}, ...(m.placement ? { placement: m.placement } : {}) };
}

/** Returns null at once. */
export const noop: HandModule = { name: "noop", body: `return { kind: "return", value: null };` };

/** One checkpoint, then returns 1. */
export const oneCheckpoint: HandModule = {
  name: "one_checkpoint",
  body: `switch (frame.pc) {
    case 0: frame.pc = 1; return { kind: "checkpoint", label: "half" };
    default: return { kind: "return", value: 1 };
  }`,
};
