// Exhaustive switches: `default: return assertNever(x)` makes the compiler refuse a switch that
// misses a member of the union, and fails loudly at run time if a value outside it arrives
// (a corrupt row, a newer writer).

export function assertNever(value: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
