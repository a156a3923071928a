// `exec(argv, timeout?, env?)`: runs a process without a shell and returns {code, stdout, stderr}.
//
// The child is the leader of its own process group (`detached`), so a timeout or an abort can
// kill everything it started: SIGTERM to the group, then SIGKILL after a grace period, so a
// child that ignores SIGTERM still dies. Each output stream is capped; past the cap the bytes
// are drained and dropped, and the text ends with a marker saying so.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import type { Json } from "../abi.js";
import { formatMs, stringMap } from "./args.js";

export interface ExecOptions {
  /** Bytes kept per stream (default 1 MiB). */
  maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL (default 5 s). */
  killGraceMs?: number;
}

export interface ExecArgs {
  argv: Json;
  timeout?: Json;
  env?: Json;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  [key: string]: Json;
}

const MiB = 1024 * 1024;
/** How long to wait for the pipes to close after the process exited (a grandchild may hold them). */
const PIPE_LINGER_MS = 1000;

export async function exec(args: ExecArgs, signal: AbortSignal, options: ExecOptions = {}): Promise<ExecResult> {
  const argv = checkArgv(args.argv);
  const timeoutMs = checkTimeout(args.timeout);
  const env = stringMap(args.env, "exec env", "exec env");
  const cap = options.maxOutputBytes ?? MiB;
  const grace = options.killGraceMs ?? 5000;
  const shown = JSON.stringify(argv[0]);
  if (signal.aborted) throw new Error(`exec ${shown}: not started, the job is stopping`);

  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      shell: false,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    const stdout = new Capped(cap);
    const stderr = new Capped(cap);
    child.stdout.on("data", (b: Buffer) => stdout.push(b));
    child.stderr.on("data", (b: Buffer) => stderr.push(b));

    let why: "timeout" | "abort" | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let exited: { code: number | null; sig: NodeJS.Signals | null } | undefined;
    let settled = false;

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    const stop = (reason: "timeout" | "abort") => {
      if (why || settled) return;
      why = reason;
      killGroup("SIGTERM");
      // Even when the leader exited on SIGTERM, group members that ignore it must die too.
      killTimer = setTimeout(() => killGroup("SIGKILL"), grace);
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => stop("timeout"), timeoutMs);
    const onAbort = () => stop("abort");
    signal.addEventListener("abort", onAbort, { once: true });

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      if (why === "timeout") {
        reject(new Error(`exec ${shown} timed out after ${formatMs(timeoutMs!)}; its process group was killed`));
        return;
      }
      if (why === "abort") {
        reject(new Error(`exec ${shown} was interrupted: the job is stopping`));
        return;
      }
      const code = exited?.code ?? (exited?.sig ? 128 + (osConstants.signals[exited.sig] ?? 0) : 1);
      resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
    };

    child.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(new Error(spawnError(argv[0], err)));
    });
    child.on("exit", (code, sig) => {
      exited = { code, sig };
      if (why) {
        // Killed by us: finish once no process of the group is left. Members that ignore
        // SIGTERM get the SIGKILL at the end of the grace period; the last check gives up a
        // little later (zombies of an unreaped group would otherwise keep us waiting).
        const giveUp = Date.now() + grace + 2000;
        const poll = setInterval(() => {
          if (!isGroupAlive(child.pid) || Date.now() > giveUp) {
            clearInterval(poll);
            clearTimeout(killTimer);
            killGroup("SIGKILL");
            finish();
          }
        }, 25);
        return;
      }
      // A background grandchild may keep the pipes open: do not wait for it forever.
      const linger = setTimeout(finish, PIPE_LINGER_MS);
      child.once("close", () => {
        clearTimeout(linger);
        finish();
      });
    });
  });
}

/**
 * Is any process of the group still running? On Linux, /proc tells zombies (killed, waiting for
 * an init that reaps slowly) from live members; elsewhere signal 0 answers for both.
 */
function isGroupAlive(pgid: number | undefined): boolean {
  if (pgid === undefined) return false;
  if (process.platform === "linux") {
    try {
      for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        let stat: string;
        try {
          stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        } catch {
          continue; // exited meanwhile
        }
        // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after its ')'.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
      }
      return false;
    } catch {
      // No /proc: fall through.
    }
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

class Capped {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;
  constructor(private readonly cap: number) {}
  push(b: Buffer): void {
    const room = this.cap - this.size;
    if (room <= 0) {
      this.dropped ||= b.length > 0;
      return;
    }
    const part = b.length > room ? b.subarray(0, room) : b;
    if (part.length < b.length) this.dropped = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    const s = Buffer.concat(this.chunks).toString("utf8");
    return this.dropped ? `${s}\n[... output truncated at ${formatBytes(this.cap)}]` : s;
  }
}

function checkArgv(v: Json): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new Error("exec needs a non-empty list of strings: the program and its arguments");
  for (const [i, a] of v.entries()) {
    if (typeof a !== "string") throw new Error(`exec argv[${i}] is ${JSON.stringify(a)}, not a string`);
    if (a.includes("\0")) throw new Error(`exec argv[${i}] contains a NUL character`);
  }
  if (v[0] === "") throw new Error("exec argv[0] is empty: name the program to run");
  return v as string[];
}

function checkTimeout(v: Json | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Error(`exec timeout must be a duration, got ${JSON.stringify(v)}`);
  return v;
}

function spawnError(program: string, err: NodeJS.ErrnoException): string {
  const shown = JSON.stringify(program);
  if (err.code === "ENOENT") return `exec ${shown}: no such executable (not found on PATH)`;
  if (err.code === "EACCES") return `exec ${shown}: permission denied (not executable)`;
  return `exec ${shown}: cannot start: ${err.message}`;
}

function formatBytes(n: number): string {
  if (n % MiB === 0) return `${n / MiB} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
