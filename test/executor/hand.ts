// Hand-written compiled runbooks for testing the driver without the compiler: each is a small
// state machine written the way the back end emits them (a switch on frame.pc, locals in
// frame.locals, every operator through ctx.ops, errors caught and turned into records).
import type { CompiledRunbook, Frame, Input, Json, StepContext, StepResult } from "../../runtime/abi.js";

type Body = (frame: Frame, ctx: StepContext, input: Input, L: Record<string, Json>) => Promise<StepResult> | StepResult;

export function hand(name: string, live: Record<number, string[]>, body: Body, extra: Partial<CompiledRunbook> = {}): CompiledRunbook {
  return {
    name,
    file: `${name}.runbook`,
    params: [],
    returns: null,
    canSuspend: true,
    calls: [],
    uses: {},
    live,
    positions: { 0: [1, 1] },
    step: async (frame, ctx, input) => body(frame, ctx, input, frame.locals),
    ...extra,
  };
}

/** Raise the delivered error, if any, as a throw of this frame (no catch in these modules). */
export function rethrow(input: Input): StepResult | null {
  return input && "error" in input ? { kind: "throw", error: input.error } : null;
}

export function value(input: Input): Json {
  if (!input || !("value" in input)) throw new Error("expected a value");
  return input.value;
}
