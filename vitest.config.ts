// Three projects, so each kind of test runs the way it needs (`vitest run --project NAME`):
// - fast: no database, no worker processes (grammar, checker, compiler, executor, corpus,
//   diagnostics, the activities' unit tests); `npm run test:fast`;
// - db: tests on a real PostgreSQL with in-process workers; any test file not listed as fast or
//   fault lands here, so a new directory is never run in the wrong company;
// - fault: real `runbook worker` processes with 3 s leases, killed, paused and partitioned. They
//   run one file at a time (a single fork), after every other test of their group: two of them
//   at once, on a busy two-core machine, made leases expire that no test meant to expire.
// `npm test` runs all three: fast first (group 0, two files at a time), then db (two at a time),
// then fault (one at a time). One PostgreSQL for the whole run (embedded, or DATABASE_URL),
// started by the root's globalSetup on first use only; each test file makes its own database.
import * as fs from "node:fs";
import { configDefaults, defineConfig } from "vitest/config";

const FAST_DIRS = "test/{grammar,checker,compiler,executor,corpus,diagnostics}/**/*.test.ts";
/**
 * The activities' tests that need no database are fast: the ones that import neither the
 * database setup nor ./pg.js (which does).
 */
const activities = new URL("test/activities/", import.meta.url);
const FAST_ACTIVITIES = fs
  .readdirSync(activities)
  .filter((f) => f.endsWith(".test.ts") && !/setup\/db|\.\/pg\.js/.test(fs.readFileSync(new URL(f, activities), "utf8")))
  .map((f) => `test/activities/${f}`);
const FAULT = ["test/fault/**/*.test.ts", "test/chaos/**/*.test.ts"];

export default defineConfig({
  test: {
    globalSetup: ["test/setup/postgres.ts"],
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          name: "fast",
          include: [FAST_DIRS, ...FAST_ACTIVITIES],
          // Deadlines, not expectations: under a load average of 24, one file's tests took 82 s.
          testTimeout: 180_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "db",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, FAST_DIRS, ...FAST_ACTIVITIES, ...FAULT],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "fault",
          include: FAULT,
          // Generous: their waits are on conditions, each with its own deadline.
          testTimeout: 240_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 1 },
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
