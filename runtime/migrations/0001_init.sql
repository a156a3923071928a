-- 0001: the job queue. See docs/runtime.md for the protocol these tables carry.
--
-- Decisions quoted from ../shared/RUNTIME.md (measured on a 2-core machine, PostgreSQL 15):
--  * "FOR UPDATE SKIP LOCKED dequeue, primary-key index only: 820/s, and falling fast as dead
--    rows pile up; with a partial index on claimable rows 4,000-6,400/s; with aggressive
--    per-table autovacuum 6,200-9,800/s and flat" -> jobs_claimable below, and the autovacuum
--    storage parameters on jobs.
--  * Checkpoints are single-row UPDATEs of a ~2 KB state: fillfactor 70 leaves room on each
--    page for HOT updates (the state and label columns are not indexed).

-- Fixed per database: the slot count cannot change once jobs exist (slot = hash(id) mod count).
CREATE TABLE runbook_settings (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  slot_count integer NOT NULL DEFAULT 256 CHECK (slot_count > 0)
);
INSERT INTO runbook_settings DEFAULT VALUES;

-- The slot of a job id: the same function for every writer, so it is computed in one place.
CREATE FUNCTION runbook_slot(job_id text) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT (abs(hashtextextended(job_id, 0) % slot_count))::integer FROM runbook_settings
$$;

-- A published version: the compiled code of a runbook and of every runbook it calls inline or
-- starts, transitively, stored under the hash of that code.
CREATE TABLE versions (
  hash text PRIMARY KEY,
  runbook text NOT NULL,
  modules jsonb NOT NULL,           -- { name: { file, js } } for every runbook of the bundle
  params jsonb NOT NULL,            -- ParamInfo[] of the root runbook (validated before queueing)
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The current version of each runbook name: what `runbook start NAME` runs.
CREATE TABLE runbooks (
  name text PRIMARY KEY,
  version text NOT NULL REFERENCES versions (hash),
  published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE jobs (
  id text PRIMARY KEY,
  runbook text NOT NULL,
  -- No foreign key: a version missing from the database must fail its job clearly at run time,
  -- not make the queue unusable.
  version text NOT NULL,
  parent_id text,
  slot integer NOT NULL,
  status text NOT NULL CHECK (status IN
    ('queued', 'running', 'sleeping', 'waiting', 'suspended', 'completed', 'failed', 'stopped')),
  params jsonb NOT NULL,
  state jsonb,
  checkpoint_label text,
  checkpoint_at timestamptz,
  checkpoints integer NOT NULL DEFAULT 0,
  -- When the job may be claimed (database clock): queued -> when queued (or a retry time);
  -- sleeping -> the wake time; waiting -> the timeout (NULL: none); running -> the lease expiry.
  -- NULL for suspended and finished jobs.
  due_at timestamptz,
  worker text,
  lease_epoch bigint NOT NULL DEFAULT 0,
  wait_signal text,
  await_job text,
  wait_until timestamptz,
  control text CHECK (control IN ('suspend', 'stop')),
  stream_seq integer NOT NULL DEFAULT 0,
  result jsonb,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
) WITH (
  fillfactor = 70,
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 500,
  autovacuum_vacuum_cost_delay = 0,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_insert_scale_factor = 0.05
);

-- Claimable rows only: queued, sleeping, waiting with a timeout, running (lease expiry).
CREATE INDEX jobs_claimable ON jobs (due_at, slot) WHERE due_at IS NOT NULL;
-- Heartbeats renew a worker's leases; completions wake the jobs awaiting them.
CREATE INDEX jobs_running_worker ON jobs (worker) WHERE status = 'running';
CREATE INDEX jobs_await ON jobs (await_job) WHERE await_job IS NOT NULL;
CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;

-- Stream records, committed with the checkpoint (or final status) that follows them.
CREATE TABLE job_streams (
  job_id text NOT NULL,
  seq integer NOT NULL,
  stream text NOT NULL CHECK (stream IN ('output', 'log', 'warn', 'error')),
  value jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, seq)
);

-- Every status transition, with database time, worker and reason.
CREATE TABLE job_history (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  from_status text,
  to_status text NOT NULL,
  worker text,
  reason text NOT NULL
);
CREATE INDEX job_history_job ON job_history (job_id, id);

-- Per-job signal mailbox: a signal sent before the job waits is kept for the first matching wait.
CREATE TABLE signals (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL,
  name text NOT NULL,
  payload jsonb NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  consumed_at timestamptz
);
CREATE INDEX signals_pending ON signals (job_id, name, id) WHERE consumed_at IS NULL;

CREATE TABLE workers (
  name text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  concurrency integer NOT NULL,
  -- Its heartbeat timeout: it stops counting as alive when heartbeat_at is older than this.
  timeout_ms integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  draining boolean NOT NULL DEFAULT false,
  drain_deadline timestamptz,
  drain_suspend boolean NOT NULL DEFAULT false,
  stopped_at timestamptz
);

-- A deployment generation: the workers that share the slots. `auto` generations are made by
-- workers joining on their own; `runbook deploy` makes explicit ones.
CREATE TABLE deployments (
  generation bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workers text[] NOT NULL,
  auto boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
