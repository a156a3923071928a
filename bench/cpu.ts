// CPU time spent, read from /proc (Linux): of one process, and of a PostgreSQL server (its
// postmaster and every child: backends, WAL writer, autovacuum...). For the per-job costs the
// benchmarks print beside their rates. A child that exited counts through the postmaster's
// children's times (cutime, cstime), which include every child it has waited for.
import * as fs from "node:fs";

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/** The fields after the command name of /proc/PID/stat (index 1: ppid, 11: utime, 12: stime). */
function stat(pid: number): string[] | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** CPU ms (user + system) of one process so far; 0 when it is gone or there is no /proc. */
export function processCpuMs(pid: number): number {
  const f = stat(pid);
  return f ? (Number(f[11]) + Number(f[12])) * TICK_MS : 0;
}

/** The postmaster of a server backend (`SELECT pg_backend_pid()` on a local server). */
export function parentOf(pid: number): number {
  return Number(stat(pid)?.[1] ?? 0);
}

/** CPU ms of the postmaster and its children now. */
export function serverCpuMs(postmaster: number): number {
  if (!postmaster || !fs.existsSync("/proc")) return 0;
  let sum = 0;
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const f = stat(pid);
    if (!f) continue;
    if (Number(f[1]) === postmaster) sum += (Number(f[11]) + Number(f[12])) * TICK_MS;
    // The postmaster's own time, and that of its children that exited since it started (13:
    // cutime, 14: cstime; the postmaster waits for every child). Without these, an autovacuum
    // worker that came and went between two readings was not counted at all.
    else if (pid === postmaster) sum += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
  }
  return sum;
}
