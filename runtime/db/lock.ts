// A lock file between processes: created with O_EXCL and holding the owner's pid, so two
// commands starting the embedded database at once do not both run initdb, and a lock left by a
// crashed process (its pid is gone) is taken over instead of waited on forever.
import * as fs from "node:fs";

const POLL_MS = 100;
const GIVE_UP_MS = 120_000;

export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o644 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (holderIsGone(file)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() - started > GIVE_UP_MS) throw new Error(`timed out waiting for the lock ${file} (held by another process)`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function holderIsGone(file: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, "utf8"));
  } catch {
    return false; // being written right now, or just removed: look again
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    // An empty file: its writer died between create and write, or is writing. Give it a moment.
    try {
      return Date.now() - fs.statSync(file).mtimeMs > 5_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}
