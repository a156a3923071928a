import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Database tests share one embedded PostgreSQL per file; two cores cannot run many at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
