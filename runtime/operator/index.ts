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
import { Follower, type FollowOptions } from "../follow.js";
import type { Bundle } from "../publish.js";
import type { JobRow } from "../rows.js";
import type { ControlVerb } from "../sql/control.js";
import * as access from "./access.js";
import * as fleet from "./fleet.js";
import * as jobs from "./jobs.js";
import * as runbooks from "./runbooks.js";
import * as schedules from "./schedules.js";
import type { JobQuery, StartRequest } from "./views.js";

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
  publish = (bundles: Bundle[]) => runbooks.publish(this.db, bundles);
  runbooks = () => runbooks.runbooks(this.db);
  version = (name: string, hash: string) => runbooks.version(this.db, name, hash);

  // jobs
  start = (req: StartRequest) => jobs.startJob(this.db, this.actor, req);
  jobs = (q: JobQuery = {}) => jobs.listJobs(this.db, q);
  job = (id: string) => jobs.jobDetail(this.db, id);
  jobRow = (id: string) => jobs.mustGetJob(this.db, id);
  output = (id: string, after?: number, limit?: number) => jobs.jobOutput(this.db, id, after, limit);
  control = (verb: ControlVerb, id: string) => jobs.controlJobAs(this.db, this.actor, verb, id);
  signal = (id: string, name: unknown, payload: Json) => jobs.signalJob(this.db, this.actor, id, name, payload);
  /** Follows a job's records to its end (see runtime/follow.ts); null when cut short by `until`. */
  follow = (id: string, o: FollowOptions, follower = new Follower()): Promise<JobRow | null> => follower.follow(this.db.pool, id, o);

  // the fleet
  fleet = () => fleet.fleet(this.db);
  deployment = (group?: string) => fleet.deploymentView(this.db, group);
  deploy = (workers: unknown, group?: unknown) => fleet.deployWorkers(this.db, workers, group);
  drain = (name: string, timeoutMs: number, suspend = false) => fleet.drainWorker(this.db, name, timeoutMs, suspend);
  workerState = (name: string) => fleet.workerState(this.db, name);

  // access
  createToken = (name: string, role: string) => access.createToken(this.db, name, role);
  tokens = () => access.tokens(this.db);
  revokeToken = (name: string) => access.revokeToken(this.db, name);
  authenticate = (token: string) => access.authenticate(this.db, token);
  createWebhook = (w: access.NewWebhook) => access.createWebhook(this.db, w);
  webhooks = () => access.webhooks(this.db);
  revokeWebhook = (name: string) => access.revokeWebhook(this.db, name);
  callWebhook = (secret: string, body: unknown) => access.callWebhook(this.db, secret, body);

  // schedules
  schedules = () => schedules.schedules(this.db);
  pauseSchedule = (name: string) => schedules.pauseSchedule(this.db, name, true);
  resumeSchedule = (name: string) => schedules.pauseSchedule(this.db, name, false);
}

export { OperatorError, httpStatus } from "./errors.js";
export type * from "./views.js";
