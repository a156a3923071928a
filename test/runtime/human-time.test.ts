// The text output's durations and relative times (cli/human-time.ts).
import { describe, expect, it } from "vitest";
import { humanDuration, relativeTime } from "../../cli/human-time.js";

describe("humanDuration", () => {
  it("prints the two largest units, dropping a zero second one", () => {
    expect(humanDuration(0)).toBe("0ms");
    expect(humanDuration(450)).toBe("450ms");
    expect(humanDuration(12_345)).toBe("12s");
    expect(humanDuration(192_000)).toBe("3m 12s");
    expect(humanDuration(180_500)).toBe("3m");
    expect(humanDuration(2 * 3_600_000 + 5 * 60_000 + 7000)).toBe("2h 5m");
    expect(humanDuration(27 * 3_600_000)).toBe("1d 3h");
    expect(humanDuration(3_600_000 + 30_000)).toBe("1h");
  });
});

describe("relativeTime", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  it("prints the largest unit, past or future", () => {
    expect(relativeTime(new Date(now.getTime() - 400), now)).toBe("just now");
    expect(relativeTime(new Date(now.getTime() - 12_000), now)).toBe("12s ago");
    expect(relativeTime(new Date(now.getTime() - 2 * 3_600_000 - 59 * 60_000), now)).toBe("2h ago");
    expect(relativeTime(new Date(now.getTime() - 3 * 86_400_000), now)).toBe("3d ago");
    expect(relativeTime(new Date(now.getTime() + 3 * 60_000), now)).toBe("in 3m");
  });
});
