// The worker's timing settings (runtime/settings.ts): defaults in one place, the environment of
// `runbook worker` parsed there, a bad value refused with the variable's name.
import { describe, expect, it } from "vitest";
import { DEFAULTS, ENV_NAMES, SettingError, defaultClaimBatch, renewWithinMs, settingsFromEnv } from "../../runtime/settings.js";

describe("worker settings", () => {
  it("has the documented defaults", () => {
    expect(DEFAULTS).toEqual({ heartbeatMs: 3_000, timeoutMs: 15_000, pollMs: 1_000, claimBatch: undefined, handoverTimeoutMs: 600_000, drainTimeoutMs: 600_000, retentionMs: 30 * 86_400_000 });
    expect([1, 10, 11, 100].map(defaultClaimBatch)).toEqual([100, 500, 550, 1_000]);
    // Half the lease; two beats when that is more; never more than the lease (every beat renews).
    expect(renewWithinMs({ heartbeatMs: 3_000, timeoutMs: 15_000 })).toBe(7_500);
    expect(renewWithinMs({ heartbeatMs: 5_000, timeoutMs: 15_000 })).toBe(10_000);
    expect(renewWithinMs({ heartbeatMs: 10_000, timeoutMs: 15_000 })).toBe(15_000);
  });

  it("reads every setting from its variable, and leaves out unset or empty ones", () => {
    const env = Object.fromEntries(Object.values(ENV_NAMES).map((name, i) => [name, String(100 + i)]));
    expect(settingsFromEnv(env)).toEqual({ heartbeatMs: 100, timeoutMs: 101, pollMs: 102, claimBatch: 103, handoverTimeoutMs: 104, drainTimeoutMs: 105, retentionMs: 106 });
    expect(settingsFromEnv({ RUNBOOK_TIMEOUT_MS: "", RUNBOOK_POLL_MS: "250" })).toEqual({ pollMs: 250 });
    expect(settingsFromEnv({})).toEqual({});
  });

  it.each(["0", "-1", "soon", "Infinity", "NaN"])("refuses %j with the variable's name", (v) => {
    expect(() => settingsFromEnv({ RUNBOOK_HEARTBEAT_MS: v })).toThrow(SettingError);
    expect(() => settingsFromEnv({ RUNBOOK_HEARTBEAT_MS: v })).toThrow(`RUNBOOK_HEARTBEAT_MS must be a positive number of milliseconds, not ${v}`);
  });

  it("takes 0 as off for the retention, and nowhere else", () => {
    expect(settingsFromEnv({ RUNBOOK_RETENTION_MS: "0" })).toEqual({ retentionMs: 0 });
    expect(() => settingsFromEnv({ RUNBOOK_RETENTION_MS: "-5" })).toThrow("RUNBOOK_RETENTION_MS must be a positive number of milliseconds (0: off), not -5");
  });
});
