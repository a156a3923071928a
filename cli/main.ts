// The `runbook` command: parses arguments and delegates. Each command's module is imported only
// when that command runs, so `runbook check` never loads the database driver.
//
// Adding a command: declare it here with commander and make its action one dynamic import,
//   .action(async (arg, opts) => (await import("./my-command.js")).myCommand(arg, opts));
// and import nothing at the top of this file but commander and the small modules below:
// every top-level import is paid by every command, `runbook --version` included (goal: under
// 150 ms, measured by bench/startup.ts).
//
// Exit codes everywhere: 0 success, 1 the work failed (errors in a runbook, a failed job),
// 2 bad usage (unknown flag, missing path). Failures print one line, never a stack trace
// (set RUNBOOK_DEBUG=1 to see one).
import type * as Commander from "commander";
import { createRequire } from "node:module";
import { exitQuietlyOnClosedPipe } from "./closed-pipe.js";
import { OperatorError } from "../runtime/operator/errors.js";
import { collect } from "./errors.js";

// commander is CommonJS: `require` skips its ESM wrapper and Node's scan of its exports, ~6 ms of
// CPU at every start (as runtime/db/pg.ts does for pg).
const { Command, CommanderError, Option } = createRequire(import.meta.url)("commander") as typeof Commander;

exitQuietlyOnClosedPipe();

const program = new Command("runbook")
  .description("Compile and run durable operations runbooks")
  .version("0.1.0")
  .exitOverride()
  .configureOutput({
    writeErr: (s) => process.stderr.write(s),
    // commander quotes a bad argument as given: one holding a newline or other control
    // characters (the soak sent random bytes) split the error over lines. Escape them, so the
    // error stays one line whatever the input.
    outputError: (s, write) => write(s.replace(/\n$/, "").replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n"),
  });

program
  .command("check")
  .description("check runbooks (files or folders, recursively) and print diagnostics")
  .argument("<paths...>", "runbook files or folders")
  .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github"]).default("text"))
  .action(async (paths: string[], opts) => (await import("./check.js")).check(paths, opts));

program
  .command("compile")
  .description("compile runbooks to resumable TypeScript state machines")
  .argument("<paths...>", "runbook files or folders")
  .requiredOption("--out <dir>", "output folder")
  .option("--check", "write nothing; exit 1 when the output folder is missing or stale")
  .action(async (paths: string[], opts) => (await import("./compile.js")).compile(paths, opts));

program
  .command("test")
  .description("run a runbook in memory: straight, then interrupted at every suspension point")
  .argument("<file>", "the .runbook file")
  .option("--param <k=v>", "a parameter (repeatable)", collect, [])
  .option("--signal <NAME=JSON>", "a signal to deliver to `wait` (repeatable)", collect, [])
  .option("--asset <NAME=VALUE>", "a fake asset for asset(); VALUE or @FILE (repeatable)", collect, [])
  .option("--secret <NAME=VALUE>", "a fake secret asset, masked in what is printed (repeatable)", collect, [])
  .option("--mock <MODULE.FN=JSON>", "a canned result for an activity (`use` alias, or exec/http/sql); JSON or @FILE (repeatable)", collect, [])
  .option("--fixtures <file>", "a JSON file of fake assets, secrets and activity answers")
  .option("--offline", "an activity with no mock fails instead of running live")
  .option("--database <url>", "the PostgreSQL server for sql()'s throw-away database (default: the project's)")
  .action(async (file: string, opts) => (await import("./test.js")).test(file, opts));

program
  .command("publish")
  .description("compile runbooks and store them as the current versions")
  .argument("<paths...>", "runbook files or folders")
  .option("--run-changed-activities", "let a worker whose activity module differs from the published one run the jobs anyway (noted in their history)")
  .option("--json", "JSON output")
  .action(async (paths: string[], opts) => (await import("./jobs.js")).publish(paths, opts));

program
  .command("run")
  .description("publish (if given a file), start a job and run it with an in-process worker")
  .argument("<runbook>", "a .runbook file or a published runbook name")
  .option("--param <k=v>", "a parameter (repeatable)", collect, [])
  .action(async (runbook: string, opts) => (await import("./run.js")).run(runbook, opts));

program
  .command("start")
  .description("queue a job and print its id")
  .argument("<name>", "published runbook name")
  .option("--param <k=v>", "a parameter (repeatable)", collect, [])
  .option("--id <key>", "idempotency key: a retried start never creates a second job")
  .option("--wait", "follow the job like `run` does")
  .option("--group <name>", "the worker group to run it (default: the runbook's declared group, else `default`)")
  .option("--priority <n>", "higher runs first among due jobs of the same slot (default 0)")
  .option("--json", "JSON output: {\"id\"}")
  .action(async (name: string, opts) => (await import("./jobs.js")).start(name, opts));

program
  .command("worker")
  .description("run jobs until drained or signalled")
  .option("--name <name>", "worker name (default: host name and pid)")
  .option("--concurrency <n>", "jobs run at once", "10")
  .option("--group <name>", "the worker group it serves (default `default`)")
  .option("--pool <n>", "database connections it opens (default concurrency + 3, at most 20)")
  .action(async (opts) => (await import("./worker.js")).worker(opts));

program
  .command("jobs")
  .description("list jobs")
  .option("--status <status>", "only jobs in this status")
  .option("--limit <n>", "newest N jobs (default 100)")
  .option("--schedule <name>", "only the jobs of this schedule's ticks")
  .option("--json", "JSON output")
  .action(async (opts) => (await import("./jobs.js")).jobs(opts));

program
  .command("job")
  .description("show one job: state, version, slot, worker, checkpoint, result, streams, history")
  .argument("<id>")
  .option("--json", "JSON output")
  .action(async (id: string, opts) => (await import("./jobs.js")).job(id, opts));

program
  .command("output")
  .description("print a job's output stream")
  .argument("<id>")
  .option("--follow", "keep printing until the job ends")
  .option("--json", "JSON lines on stdout, one per record of every stream")
  .action(async (id: string, opts) => (await import("./jobs.js")).output(id, opts));

for (const verb of ["suspend", "resume", "stop"] as const) {
  program
    .command(verb)
    .description(`${verb} a job`)
    .argument("<id>")
    .action(async (id: string) => (await import("./jobs.js")).control(verb, id));
}

program
  .command("signal")
  .description("send a signal to a job's mailbox")
  .argument("<id>")
  .argument("<name>")
  .argument("[json]", "payload (JSON)", "null")
  .action(async (id: string, name: string, json: string) => (await import("./jobs.js")).signal(id, name, json));

program
  .command("workers")
  .description("list workers: heartbeat, slots, jobs held, draining")
  .option("--json", "JSON output")
  .action(async (opts) => (await import("./ops.js")).workers(opts));

program
  .command("deploy")
  .description("show the deployment, or replace it online with --workers")
  .option("--workers <names>", "comma-separated worker names")
  .option("--group <name>", "the worker group whose deployment this is (default `default`)")
  .option("--json", "JSON output")
  .action(async (opts) => (await import("./ops.js")).deploy(opts));

program
  .command("drain")
  .description("drain a worker: hand its jobs over at their next checkpoint, then it exits")
  .argument("<name>")
  .option("--timeout <duration>", "interrupt jobs without a checkpoint after this long", "10m")
  .option("--suspend", "leave drained jobs suspended instead of handing them on")
  .action(async (name: string, opts) => (await import("./ops.js")).drain(name, opts));

program
  .command("prune")
  .description("remove finished jobs that ended long ago, with their output, history and signals")
  .requiredOption("--older-than <duration>", "how long ago a job must have ended (like 30d)")
  .option("--batch <n>", "jobs removed per statement", "500")
  .option("--dry-run", "only count what would be removed")
  .option("--json", "JSON output")
  .action(async (opts) => (await import("./prune.js")).prune(opts));

const asset = program.command("asset").description("named variables and credentials for `asset(name)`");
asset
  .command("set")
  .description("store a variable, or a secret with --secret (sealed with RUNBOOK_SECRET_KEY)")
  .argument("<name>")
  .argument("[value]", "the value (read from stdin when left out)")
  .option("--secret", "encrypt at rest and mask in streams")
  .action(async (name: string, value: string | undefined, opts) => (await import("./assets.js")).set(name, value, opts));
asset
  .command("list")
  .description("list assets: name, kind (variable or secret), last update; never a value")
  .option("--json", "JSON output")
  .action(async (opts) => (await import("./assets.js")).list(opts));
asset
  .command("get")
  .description("print an asset's value (a secret's only with --reveal)")
  .argument("<name>")
  .option("--json", "JSON output: name, kind, updated_at, value")
  .option("--reveal", "print a secret's value (needs RUNBOOK_SECRET_KEY)")
  .action(async (name: string, opts) => (await import("./assets.js")).get(name, opts));
asset
  .command("delete")
  .description("delete an asset")
  .argument("<name>")
  .action(async (name: string) => (await import("./assets.js")).remove(name));
asset
  .command("rekey")
  .description("re-seal every secret (assets, job states) under RUNBOOK_SECRET_KEY, opening them with it or RUNBOOK_SECRET_KEY_PREVIOUS")
  .action(async () => (await import("./assets.js")).rekey());

program
  .command("serve")
  .description("serve the HTTP API and web console (every call needs a token: runbook token create)")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "port to listen on", "8080")
  .action(async (opts) => (await import("./serve.js")).serve(opts));

const token = program.command("token").description("API tokens for `runbook serve` (only a hash is stored)");
token
  .command("create")
  .description("make a token and print it (once)")
  .argument("<name>")
  .addOption(new Option("--role <role>", "what it may do").choices(["viewer", "operator", "admin"]).makeOptionMandatory())
  .option("--json", "JSON output")
  .action(async (name: string, opts) => (await import("./access.js")).tokenCreate(name, opts));
token.command("list").description("list tokens: name, role, last use").option("--json", "JSON output").action(async (opts) => (await import("./access.js")).tokenList(opts));
token.command("revoke").description("revoke a token").argument("<name>").action(async (name: string) => (await import("./access.js")).tokenRevoke(name));

const webhook = program.command("webhook").description("URLs that start a runbook when POSTed to (Azure Automation's model)");
webhook
  .command("create")
  .description("make a webhook and print its URL (once: it holds the secret)")
  .argument("<name>")
  .requiredOption("--runbook <name>", "the published runbook it starts")
  .option("--param <k=v>", "a fixed parameter; the request body's fields go over these (repeatable)", collect, [])
  .option("--expires <duration>", "the URL stops working after this long (like 30d)")
  .option("--url <base>", "the server's address as callers reach it", "http://127.0.0.1:8080")
  .option("--json", "JSON output")
  .action(async (name: string, opts) => (await import("./access.js")).webhookCreate(name, opts));
webhook.command("list").description("list webhooks (never their secrets)").option("--json", "JSON output").action(async (opts) => (await import("./access.js")).webhookList(opts));
webhook.command("revoke").description("revoke a webhook").argument("<name>").action(async (name: string) => (await import("./access.js")).webhookRevoke(name));

const schedule = program.command("schedule").description("cron schedules: the live workers start a job at each tick");
schedule
  .command("set")
  .description("create or replace a schedule")
  .argument("<name>")
  .requiredOption("--runbook <name>", "the published runbook to start")
  .requiredOption("--cron <expr>", "five fields (min hour day month weekday), or six with seconds first")
  .option("--tz <zone>", "IANA time zone the cron is read in", "UTC")
  .option("--param <k=v>", "a parameter of the jobs (repeatable)", collect, [])
  .option("--group <name>", "the worker group the jobs go to")
  .addOption(new Option("--overlap <policy>", "a tick while the previous job runs").choices(["skip", "queue", "allow"]).default("skip"))
  .option("--catchup <duration>", "after an outage, fire the ticks missed within this long (like 1h)", "0")
  .action(async (name: string, opts) => (await import("./schedules.js")).set(name, opts));
schedule
  .command("list")
  .description("list schedules: runbook, cron, zone, overlap, paused, next tick")
  .option("--json", "JSON output")
  .action(async (opts) => (await import("./schedules.js")).list(opts));
schedule
  .command("show")
  .description("show a schedule and what became of its latest ticks (fired, skipped, queued, missed)")
  .argument("<name>")
  .option("--limit <n>", "newest N ticks", "20")
  .option("--json", "JSON output")
  .action(async (name: string, opts) => (await import("./schedules.js")).show(name, opts));
for (const verb of ["pause", "resume"] as const) {
  schedule
    .command(verb)
    .description(verb === "pause" ? "fire no more ticks until resumed" : "fire again, from the first tick after now")
    .argument("<name>")
    .action(async (name: string) => (await import("./schedules.js")).pause(name, verb === "pause"));
}
schedule
  .command("remove")
  .description("remove a schedule made by `schedule set` (its jobs stay)")
  .argument("<name>")
  .action(async (name: string) => (await import("./schedules.js")).remove(name));
schedule
  .command("trigger")
  .description("start the schedule's job now, whatever its overlap policy; prints the job id")
  .argument("<name>")
  .option("--json", "JSON output: {\"id\", \"tick\"}")
  .action(async (name: string, opts) => (await import("./schedules.js")).trigger(name, opts));

const db = program.command("db").description("the embedded database under .runbook/");
db.command("stop").action(async () => (await import("./db.js")).stop());
db.command("status").option("--json", "JSON output").action(async (opts) => (await import("./db.js")).status(opts));

program
  .command("fmt")
  .description("rewrite runbooks in the canonical layout (files or folders, recursively)")
  .argument("<paths...>", "runbook files or folders")
  .option("--check", "write nothing; list the files not formatted and exit 1 if any")
  .action(async (paths: string[], opts) => (await import("./fmt.js")).fmt(paths, opts));

program
  .command("lsp")
  .description("the language server, over stdio (editors start it; see editors/vscode)")
  .option("--stdio", "talk LSP over stdin/stdout (the default and only transport)")
  .action(async () => (await import("./lsp.js")).lsp());

program
  .command("completion")
  .description("print a shell completion script (load it with: source <(runbook completion bash))")
  .argument("<shell>", "bash, zsh or fish")
  .action(async (shell: string) => (await import("./completion.js")).completion(shell, program));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with code 0.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof OperatorError) {
    // CliError is one too: every one-line failure, from the CLI or the operator API.
    process.stderr.write(`runbook: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`runbook: ${message}\n`);
    if (process.env.RUNBOOK_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
