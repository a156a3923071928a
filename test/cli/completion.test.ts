// `runbook completion`: the scripts come from commander's command tree. The bash script is run
// for real: sourced in bash, its function called with COMP_WORDS/COMP_CWORD set as readline would.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "../..");

function runbook(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, "bin/runbook.js"), ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let bashScript: string;
beforeAll(() => {
  const r = runbook("completion", "bash");
  expect(r.code).toBe(0);
  bashScript = r.stdout;
}, 180_000);

/** COMPREPLY after completing the last of `words` (the word being typed, possibly ""). */
function complete(words: string[]): string[] {
  const program = `${bashScript}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_runbook
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["-c", program], { encoding: "utf8", cwd: repo });
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").filter((l) => l !== "");
}

describe("runbook completion", () => {
  it("prints a bash script that bash parses", () => {
    const r = spawnSync("bash", ["-n"], { input: bashScript, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("completes commands, subcommands, options and choices in bash", () => {
    expect(complete(["runbook", "ch"])).toEqual(["check"]);
    // (containment, not equality: new commands complete by themselves)
    const s = complete(["runbook", "s"]);
    expect(s).toEqual(expect.arrayContaining(["signal", "start", "stop", "suspend"]));
    expect(s.every((w) => w.startsWith("s"))).toBe(true);
    const asset = complete(["runbook", "asset", ""]);
    expect(asset).toEqual(expect.arrayContaining(["--help", "delete", "get", "list", "set"]));
    expect(asset).not.toContain("check");
    expect(complete(["runbook", "asset", "set", "--s"])).toEqual(["--secret"]);
    expect(complete(["runbook", "check", "--format", ""]).sort()).toEqual(["github", "json", "text"]);
    expect(complete(["runbook", "prune", "--older-than", "30d", "--d"])).toEqual(["--dry-run"]);
    // an option's value is not taken for a command: `--name check` stays under `worker`
    expect(complete(["runbook", "worker", "--name", "check", "--c"])).toEqual(["--concurrency"]);
    // after a command that takes paths, a word not starting with '-' completes file names
    expect(complete(["runbook", "check", "runboo"])).toContain("runbooks");
  });

  it("prints zsh and fish scripts naming every command and option", () => {
    for (const shell of ["zsh", "fish"]) {
      const r = runbook("completion", shell);
      expect(r.code).toBe(0);
      for (const word of ["check", "compile", "publish", "drain", "asset", "delete", "completion", "older-than", "dry-run"]) {
        expect(r.stdout).toContain(word);
      }
    }
    expect(runbook("completion", "fish").stdout).toContain("complete -c runbook -f -n 'test (__runbook_path) = runbook' -a 'check'");
    expect(runbook("completion", "zsh").stdout).toMatch(/^#compdef runbook\n/);
  }, 300_000);

  it("rejects an unknown shell with one line and exit 2", () => {
    const r = runbook("completion", "tcsh");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("runbook: unknown shell 'tcsh' (expected bash, zsh or fish)\n");
  });
});
