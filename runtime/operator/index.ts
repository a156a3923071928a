// The operator API: every action an operator takes on the runtime, in one object, like
// graphile-worker's WorkerUtils. The CLI (cli/*), the HTTP API (runtime/server/*) and so the web
// console all go through it, so they never disagree. Each action is implemented beside its kind
// (jobs.ts, fleet.ts, runbooks.ts, access.ts); this class binds them to a database and to the
// actor whose name goes into the jobs' history ("operator alice", "token ci", "webhook deploy").
//
// Schedules: their list, pause and resume are here; set, remove and trigger are the CLI's for
// now (cli/schedules.ts).
import type { Json } from "../abi.js";
import type { Db } from "../db/connect.js";
import type { Follower, FollowOptions } from "../follow.js";
import type { Bundle } from "../publish.js";
import type { JobRow } from "../rows.js";
import type { ControlVerb } from "../sql/control.js";
import type { NewWebhook } from "./access.js";
import type { JobQuery, StartRequest } from "./views.js";

// Each kind's module is imported on the first call of one of its actions (and cached by the
// module loader after that), not up front: a command uses one or two kinds, and loading all of
// them (publishing, the fleet's slot assignment, tokens, schedules and their SQL) cost every
// command ~15 ms of start-up. The actions were all asynchronous already: callers see no change.
const load = {
  runbooks: () => import("./runbooks.js"),
  jobs: () => import("./jobs.js"),
  fleet: () => import("./fleet.js"),
  access: () => import("./access.js"),
  schedules: () => import("./schedules.js"),
  follow: () => import("../follow.js"),
};

export class Operator {
  constructor(
    readonly db: Db,
    /** Who acts, as the jobs' history names them. */
    readonly actor: string,
  ) {}

  /** The same database, another actor (one per API token or webhook). */
  as(actor: string): Operator {
    return new Operator(this.db, actor);
  }

  // runbooks
  publish = async (bundles: Bundle[]) => (await load.runbooks()).publish(this.db, bundles);
  runbooks = async () => (await load.runbooks()).runbooks(this.db);
  version = async (name: string, hash: string) => (await load.runbooks()).version(this.db, name, hash);

  // jobs
  start = async (req: StartRequest) => (await load.jobs()).startJob(this.db, this.actor, req);
  jobs = async (q: JobQuery = {}) => (await load.jobs()).listJobs(this.db, q);
  job = async (id: string) => (await load.jobs()).jobDetail(this.db, id);
  jobRow = async (id: string) => (await load.jobs()).mustGetJob(this.db, id);
  output = async (id: string, after?: number, limit?: number) => (await load.jobs()).jobOutput(this.db, id, after, limit);
  control = async (verb: ControlVerb, id: string) => (await load.jobs()).controlJobAs(this.db, this.actor, verb, id);
  signal = async (id: string, name: unknown, payload: Json) => (await load.jobs()).signalJob(this.db, this.actor, id, name, payload);
  /** Follows a job's records to its end (see runtime/follow.ts); null when cut short by `until`. */
  follow = async (id: string, o: FollowOptions, follower?: Follower): Promise<JobRow | null> =>
    (follower ?? new (await load.follow()).Follower()).follow(this.db.pool, id, o);

  // the fleet
  fleet = async () => (await load.fleet()).fleet(this.db);
  deployment = async (group?: string) => (await load.fleet()).deploymentView(this.db, group);
  deploy = async (workers: unknown, group?: unknown) => (await load.fleet()).deployWorkers(this.db, workers, group);
  drain = async (name: string, timeoutMs: number, suspend = false) => (await load.fleet()).drainWorker(this.db, name, timeoutMs, suspend);
  workerState = async (name: string) => (await load.fleet()).workerState(this.db, name);

  // access
  createToken = async (name: string, role: string) => (await load.access()).createToken(this.db, name, role);
  tokens = async () => (await load.access()).tokens(this.db);
  revokeToken = async (name: string) => (await load.access()).revokeToken(this.db, name);
  authenticate = async (token: string) => (await load.access()).authenticate(this.db, token);
  createWebhook = async (w: NewWebhook) => (await load.access()).createWebhook(this.db, w);
  webhooks = async () => (await load.access()).webhooks(this.db);
  revokeWebhook = async (name: string) => (await load.access()).revokeWebhook(this.db, name);
  callWebhook = async (secret: string, body: unknown) => (await load.access()).callWebhook(this.db, secret, body);

  // schedules
  schedules = async () => (await load.schedules()).schedules(this.db);
  pauseSchedule = async (name: string) => (await load.schedules()).pauseSchedule(this.db, name, true);
  resumeSchedule = async (name: string) => (await load.schedules()).pauseSchedule(this.db, name, false);
}

export { OperatorError, httpStatus } from "./errors.js";
export type * from "./views.js";
