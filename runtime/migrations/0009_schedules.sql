-- 0009: schedules. The live workers fire due ticks themselves (runtime/schedules.ts); there is no
-- scheduler process. docs/runtime.md, "Schedules", says why each rule below holds under faults.

CREATE TABLE schedules (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
  runbook text NOT NULL,
  cron text NOT NULL,
  tz text NOT NULL DEFAULT 'UTC',
  params jsonb NOT NULL DEFAULT '{}',
  -- The worker group its jobs go to (NULL: the default group).
  worker_group text,
  overlap text NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'queue', 'allow')),
  -- Ticks missed in an outage are fired if they are at most this old, else recorded as missed.
  catchup_ms bigint NOT NULL DEFAULT 0 CHECK (catchup_ms >= 0),
  paused boolean NOT NULL DEFAULT false,
  -- Made by `runbook schedule set` (cli) or declared in a schedules file applied by `publish`
  -- (file: the path of that file, so publishing it again removes what it no longer declares).
  source text NOT NULL CHECK (source IN ('cli', 'file')),
  source_file text CHECK ((source = 'file') = (source_file IS NOT NULL)),
  -- The next tick not yet handled (database clock); NULL when the cron has no further time.
  next_at timestamptz,
  -- overlap queue: the one tick waiting for the schedule's running job to finish.
  pending_tick timestamptz CHECK (pending_tick IS NULL OR overlap = 'queue'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_due ON schedules (next_at) WHERE NOT paused;

-- What became of each tick: fired (its job), skipped (overlap), queued (waiting behind the
-- running job; becomes fired), triggered (`schedule trigger`), missed (a run of ticks older than
-- the catch-up window after an outage: `tick` is the first, `last_tick` the last).
CREATE TABLE schedule_ticks (
  schedule text NOT NULL REFERENCES schedules (name) ON DELETE CASCADE,
  tick timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('fired', 'skipped', 'queued', 'triggered', 'missed')),
  job_id text,
  last_tick timestamptz,
  missed integer,
  reason text,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule, tick),
  CHECK ((outcome IN ('fired', 'triggered')) = (job_id IS NOT NULL)),
  CHECK ((outcome = 'missed') = (last_tick IS NOT NULL AND missed IS NOT NULL))
);
-- Retention removes tick records by age, like finished jobs (runtime/retention.ts).
CREATE INDEX schedule_ticks_at ON schedule_ticks (at);

-- When a fire pass last ran (any worker). Ticks that fell due after a pass more than a lease
-- timeout ago fell in an outage: the catch-up window decides whether they are fired.
CREATE TABLE schedule_clock (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  passed_at timestamptz
);
INSERT INTO schedule_clock DEFAULT VALUES;

-- A job made by a schedule carries it and its tick. The unique index makes a second job for one
-- tick unrepresentable, whatever its id.
ALTER TABLE jobs ADD COLUMN schedule text, ADD COLUMN schedule_tick timestamptz;
ALTER TABLE jobs ADD CONSTRAINT jobs_schedule_has_tick CHECK ((schedule IS NULL) = (schedule_tick IS NULL));
CREATE UNIQUE INDEX jobs_schedule_tick ON jobs (schedule, schedule_tick) WHERE schedule IS NOT NULL;
-- The overlap policies look at a schedule's unfinished jobs at every tick.
CREATE INDEX jobs_schedule_open ON jobs (schedule) WHERE schedule IS NOT NULL AND finished_at IS NULL;
