// Durations and times as a person reads them in text output ("3m 12s", "2h ago"). Only text
// output uses these: every --json keeps the raw values (milliseconds, ISO times).

const UNITS: [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

/** `ms` as its two largest units: 450ms, 12s, 3m 12s, 2h 5m, 1d 3h (rounded down). */
export function humanDuration(ms: number): string {
  const abs = Math.max(0, Math.floor(ms));
  if (abs < 1000) return `${abs}ms`;
  const parts: string[] = [];
  let rest = abs;
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.filter((p, i) => i === 0 || !p.startsWith("0")).join(" ");
}

/** `at` relative to `now` in its largest unit: just now, 12s ago, 2h ago, in 3m. */
export function relativeTime(at: Date, now: Date = new Date()): string {
  const diff = now.getTime() - at.getTime();
  const abs = Math.abs(diff);
  if (abs < 1000) return "just now";
  const [unit, size] = UNITS.find(([, s]) => abs >= s)!;
  const n = Math.floor(abs / size);
  return diff > 0 ? `${n}${unit} ago` : `in ${n}${unit}`;
}
