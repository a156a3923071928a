// What the soak's lanes share: the project, the workers, the settings, the records the checker
// reads afterwards, and the gate that keeps `runbook` commands away from a database restart.
import type { FaultRecord, HostileJob, UnclearError } from "./evidence.js";
import type { Fleet } from "./fleet.js";
import type { Project } from "./project.js";
import type { Ran } from "../runtime/process.js";

export interface Settings {
  durationMs: number;
  workers: number;
  seed: number;
  heartbeatMs: number;
  timeoutMs: number;
  concurrency: number;
  /** Jobs kept active (queued to running to parked) by the load. */
  active: number;
  /** Only these fault and operator kinds (all when absent): to chase one problem. */
  only?: string[];
}

export interface Soak {
  settings: Settings;
  project: Project;
  fleet: Fleet;
  /** Set once the run's duration is over and every kind has run: lanes finish what they do and stop. */
  ending: boolean;
  faults: FaultRecord[];
  hostile: HostileJob[];
  unclear: UnclearError[];
  /** Jobs the operator lane must leave alone (hostile targets, in the middle of their edit). */
  reserved: Set<string>;
  gate: CliGate;
  log(line: string): void;
}

/**
 * A `runbook` command started while the embedded server is down would start the server again
 * itself, on another port. The database restart closes this gate and waits for the commands in
 * flight; commands wait for it to open.
 */
export class CliGate {
  private closed: Promise<void> | null = null;
  private reopen: (() => void) | null = null;
  private inFlight = 0;
  private drained: (() => void) | null = null;

  constructor(private readonly project: Project) {}

  /** `runbook ARGS` in the project folder, once no database restart is under way. */
  async cli(args: string[]): Promise<Ran> {
    while (this.closed) await this.closed;
    this.inFlight++;
    try {
      return await this.project.cli(args);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  /** Runs `fn` with no command in flight and none starting. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    this.closed = new Promise((r) => (this.reopen = r));
    try {
      if (this.inFlight > 0) await new Promise<void>((r) => (this.drained = r));
      this.drained = null;
      return await fn();
    } finally {
      const open = this.reopen!;
      this.closed = null;
      this.reopen = null;
      open();
    }
  }
}
