// The soak's workers: real `runbook worker` processes in the project folder, each in its own
// process group, started, signalled, killed and restarted under their names. An exit the soak
// did not cause (it sent no SIGKILL or SIGTERM and asked for no drain) is recorded: the checker
// counts it as a crash. A watchdog kills every group left should the soak itself die.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN } from "../runtime/process.js";
import type { Project } from "./project.js";

export interface FleetSettings {
  heartbeatMs: number;
  timeoutMs: number;
  concurrency: number;
}

export interface Crash {
  worker: string;
  code: number;
  /** The end of its stderr. */
  tail: string;
}

interface Proc {
  child: ChildProcess;
  exited: Promise<number>;
  stderr: string;
  /** An exit the soak caused or asked for. */
  expected: boolean;
  paused: boolean;
  /** Minutes its clock is off (libfaketime), 0 for none. */
  skewMinutes: number;
}

export class Fleet {
  private readonly procs = new Map<string, Proc>();
  readonly crashes: Crash[] = [];
  private readonly pidFile: string;

  constructor(
    private readonly project: Project,
    readonly names: string[],
    private readonly settings: FleetSettings,
    private readonly log: (line: string) => void,
  ) {
    this.pidFile = path.join(project.dir, "worker-pids");
    process.once("exit", () => {
      for (const p of this.procs.values()) killGroup(p.child, "SIGKILL");
    });
    // Should the soak die without its exit hook (SIGKILL), this kills whatever groups are listed.
    spawn("sh", ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; for g in $(cat '${this.pidFile}' 2>/dev/null); do kill -9 -$g 2>/dev/null; done`], {
      detached: true,
      stdio: "ignore",
    }).unref();
  }

  isUp(name: string): boolean {
    const p = this.procs.get(name);
    return !!p && p.child.exitCode === null && p.child.signalCode === null;
  }

  isPaused(name: string): boolean {
    return this.procs.get(name)?.paused ?? false;
  }

  skewOf(name: string): number {
    return this.procs.get(name)?.skewMinutes ?? 0;
  }

  /** Starts `runbook worker --name NAME` (under libfaketime when skewed); resolves once it has started. */
  async start(name: string, skewMinutes = 0): Promise<void> {
    if (this.isUp(name)) throw new Error(`worker ${name} is already running`);
    const args = [BIN, "worker", "--name", name, "--concurrency", String(this.settings.concurrency)];
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...this.project.env,
      RUNBOOK_HEARTBEAT_MS: String(this.settings.heartbeatMs),
      RUNBOOK_TIMEOUT_MS: String(this.settings.timeoutMs),
      RUNBOOK_POLL_MS: "500",
      RUNBOOK_DRAIN_TIMEOUT_MS: "3000",
      RUNBOOK_HANDOVER_TIMEOUT_MS: "5000",
    };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    if (skewMinutes !== 0) {
      // Wall clock off by minutes; the monotonic clock (timers, lease bookkeeping) stays real.
      // libfaketime preloaded directly: the `faketime` wrapper names a semaphore after its pid,
      // and one left by a wrapper killed with -9 made a later wrapper with the same pid refuse
      // to start ("sem_open: File exists").
      env.LD_PRELOAD = libfaketime();
      env.FAKETIME = `${skewMinutes > 0 ? "+" : ""}${skewMinutes}m`;
      env.FAKETIME_DONT_FAKE_MONOTONIC = "1";
    }
    const child = spawn(process.execPath, args, { cwd: this.project.dir, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
    child.on("error", (e) => (p.stderr += `\ncannot start the worker: ${e.message}\n`));
    const p: Proc = { child, stderr: "", expected: false, paused: false, skewMinutes, exited: null as unknown as Promise<number> };
    p.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        const c = code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 0);
        if (!p.expected) {
          const tail = p.stderr.trimEnd().split("\n").slice(-30).join("\n");
          this.crashes.push({ worker: name, code: c, tail });
          this.log(`worker ${name} exited on its own (code ${c}); the end of its stderr:\n${tail}`);
        }
        resolve(c);
      }),
    );
    child.stderr!.on("data", (d) => {
      p.stderr += d;
      if (p.stderr.length > 200_000) p.stderr = p.stderr.slice(-100_000);
    });
    this.procs.set(name, p);
    fs.appendFileSync(this.pidFile, `${child.pid}\n`);
    const until = Date.now() + 120_000;
    while (!p.stderr.includes(`worker ${name} started`)) {
      if (!this.isUp(name)) throw new Error(`worker ${name} exited while starting: ${p.stderr.trim().split("\n").slice(-3).join(" | ")}`);
      if (Date.now() > until) throw new Error(`worker ${name} did not start within 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends a signal to the worker's process group; SIGKILL and SIGTERM make its exit expected. */
  signal(name: string, sig: NodeJS.Signals): void {
    const p = this.procs.get(name);
    if (!p) return;
    if (sig === "SIGKILL" || sig === "SIGTERM") p.expected = true;
    if (sig === "SIGSTOP") p.paused = true;
    if (sig === "SIGCONT") p.paused = false;
    killGroup(p.child, sig);
  }

  /** The worker will exit because the soak asked for it (a drain). */
  expectExit(name: string): void {
    const p = this.procs.get(name);
    if (p) p.expected = true;
  }

  /** Resolves with the exit code once the worker has exited. */
  exited(name: string): Promise<number> {
    return this.procs.get(name)?.exited ?? Promise.resolve(0);
  }

  /** Stops every worker: SIGCONT, SIGTERM (drain), SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    const up = this.names.filter((n) => this.isUp(n));
    for (const n of up) {
      this.signal(n, "SIGCONT");
      this.signal(n, "SIGTERM");
    }
    await Promise.all(
      up.map(async (n) => {
        const t = new Promise((r) => setTimeout(r, graceMs, "late"));
        if ((await Promise.race([this.exited(n), t])) === "late") this.signal(n, "SIGKILL");
        await this.exited(n);
      }),
    );
  }
}

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // already gone
  }
}

/** The thread-safe libfaketime of Debian's `faketime` package (Node runs threads). */
export function libfaketime(): string {
  for (const dir of ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"]) {
    const file = path.join(dir, "faketime", "libfaketimeMT.so.1");
    if (fs.existsSync(file)) return file;
  }
  throw new Error("libfaketime is not installed (Debian: apt-get install faketime)");
}
