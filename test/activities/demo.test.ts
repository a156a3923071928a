// The demo activities of runbooks/activities.ts, run through the ActivityHost as a worker would:
// they act on files under RUNBOOK_DEMO_DIR.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActivityHost, type JobActivities } from "../../runtime/activities.js";
import type { Json } from "../../runtime/abi.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rb-demo-"));
const saved = { dir: process.env.RUNBOOK_DEMO_DIR, boot: process.env.RUNBOOK_DEMO_BOOT_MS };
let job: JobActivities;
const logs: string[] = [];
const call = (fn: string, args: Record<string, Json>) => job.activity("infra", fn, args);

beforeAll(async () => {
  process.env.RUNBOOK_DEMO_DIR = dir;
  process.env.RUNBOOK_DEMO_BOOT_MS = "300";
  const host = new ActivityHost();
  job = await host.forJob({ jobId: "demo", log: (m) => logs.push(m), runbooks: [{ file: "runbooks/build_vm.runbook", uses: { infra: "./activities.ts" } }] });
});
afterAll(() => {
  process.env.RUNBOOK_DEMO_DIR = saved.dir;
  process.env.RUNBOOK_DEMO_BOOT_MS = saved.boot;
  if (saved.dir === undefined) delete process.env.RUNBOOK_DEMO_DIR;
  if (saved.boot === undefined) delete process.env.RUNBOOK_DEMO_BOOT_MS;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("demo activities", () => {
  it("builds a VM: create (idempotent by name), configure after boot, health", async () => {
    // It boots when the test says so (an hour, cut short below), not after a time the test hopes
    // its next call beats.
    process.env.RUNBOOK_DEMO_BOOT_MS = "3600000";
    const vm = (await call("createVm", { name: "web1", size: "medium" })) as Record<string, Json>;
    process.env.RUNBOOK_DEMO_BOOT_MS = "300";
    expect(vm).toMatchObject({ id: "vm-web1", size: "medium", cpus: 2, state: "booting", role: null });
    expect(await call("healthCheck", { host: "vm-web1", timeout: 0 })).toMatchObject({ healthy: false, detail: "vm-web1 is still booting" });
    const again = (await call("createVm", { name: "web1", size: null })) as Record<string, Json>;
    expect(again.createdAt).toBe(vm.createdAt);
    const file = path.join(dir, "vms", "vm-web1.json");
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), bootedAt: new Date().toISOString() }));
    const conf = await call("configureVm", { id: "vm-web1", role: "web" });
    expect(conf).toMatchObject({ id: "vm-web1", role: "web", packages: ["nginx", "certbot"] });
    expect(fs.readFileSync(path.join(dir, "vms", "vm-web1.conf"), "utf8")).toContain("packages = nginx, certbot");
    expect(await call("healthCheck", { host: "vm-web1" })).toMatchObject({ healthy: true, detail: `vm-web1 is running as web at ${vm.ip}` });
    expect(logs.some((l) => l.includes("already exists"))).toBe(true);
  });

  it("injected faults fail the next N operations", async () => {
    fs.mkdirSync(path.join(dir, "faults"), { recursive: true });
    fs.writeFileSync(path.join(dir, "faults", "db1"), "2\n");
    await expect(call("restartHost", { host: "db1" })).rejects.toThrow("restart of db1 failed (injected fault; 1 more to come)");
    await expect(call("restartHost", { host: "db1" })).rejects.toThrow("restart of db1 failed (injected fault; 0 more to come)");
    expect(await call("restartHost", { host: "db1" })).toMatchObject({ host: "db1", bootCount: 1 });
    expect(await call("healthCheck", { host: "db1" })).toMatchObject({ healthy: true, detail: "db1 is up" });
    expect(await call("healthCheck", { host: "nobody" })).toMatchObject({ healthy: false, detail: "unknown host nobody" });
  });

  it("backs up, verifies, detects tampering, prunes", async () => {
    const b1 = (await call("backupDatabase", { database: "orders" })) as Record<string, Json>;
    expect(b1).toMatchObject({ database: "orders", rows: 100 });
    expect(fs.statSync(String(b1.path)).size).toBe(b1.bytes);
    expect(await call("verifyBackup", { path: b1.path })).toMatchObject({ ok: true, rows: 100 });
    await new Promise((r) => setTimeout(r, 5));
    const b2 = (await call("backupDatabase", { database: "orders" })) as Record<string, Json>;
    fs.appendFileSync(String(b2.path), "x");
    expect(await call("verifyBackup", { path: b2.path })).toMatchObject({ ok: false });
    expect(await call("verifyBackup", { path: "/etc/passwd" })).toMatchObject({ ok: false, detail: "/etc/passwd is not a backup of this demo" });
    expect(await call("pruneBackups", { database: "orders", keep: 1 })).toBe(1);
    expect(fs.existsSync(String(b1.path))).toBe(false);
    expect(fs.existsSync(String(b2.path))).toBe(true);
  });

  it("refuses names that would leave the demo folder", async () => {
    await expect(call("createVm", { name: "../../etc" })).rejects.toThrow('VM name "../../etc" is not valid');
    await expect(call("backupDatabase", { database: "a/b" })).rejects.toThrow('database name "a/b" is not valid');
  });
});
