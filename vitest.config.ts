import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One PostgreSQL for the whole run (embedded, or DATABASE_URL); each test file makes its own database.
    globalSetup: ["test/setup/postgres.ts"],
    // Database tests share one embedded PostgreSQL per file; two cores cannot run many at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
