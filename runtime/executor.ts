// The executor: the driver that runs a job's call stack between suspension points
// (runtime/driver.ts, used by the Postgres worker and by tests) and the in-memory executor that
// runs a job to its end without a database (runtime/memory.ts, used by `runbook test`).
export { initialState, pruneDeadLocals, resume, type DriverContext, type Program, type Resumed } from "./driver.js";
export {
  errorText,
  firstDivergence,
  MODES,
  programOf,
  ROOT_JOB,
  runAllModes,
  runInMemory,
  type CommitEvent,
  type Ending,
  type InterruptMode,
  type JobRun,
  type ActivityCall,
  type AllModesOptions,
  type MemoryActivity,
  type MemoryOptions,
  type MemoryRun,
  type ModeRuns,
  type Signal,
} from "./memory.js";
