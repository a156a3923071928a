-- 0011: where and when a job runs: worker groups, priority and concurrency keys (issue 14).
-- docs/runtime.md ("Groups, priority and concurrency keys") says why each rule holds.

-- Worker groups. A job runs only on a worker of its group; each group has its own deployment
-- generations, so slot ownership, drain and redeploy are per group.
ALTER TABLE workers ADD COLUMN worker_group text NOT NULL DEFAULT 'default';
ALTER TABLE deployments ADD COLUMN worker_group text NOT NULL DEFAULT 'default';
CREATE INDEX deployments_group ON deployments (worker_group, generation DESC);

-- What the compiler says of each runbook of a version: { NAME: { group?, concurrency?: { key, limit } } }.
-- `key` is null (the key is the runbook's name) or a list of parts, each {"text": "..."} or
-- {"param": ["host", "field"...]}, joined in order: the header's key expression, which the checker
-- restricts to parameters (without defaults), their fields, literals and `+`.
ALTER TABLE versions ADD COLUMN placement json NOT NULL DEFAULT '{}'::json;

ALTER TABLE jobs
  ADD COLUMN worker_group text NOT NULL DEFAULT 'default',
  ADD COLUMN priority integer NOT NULL DEFAULT 0,
  -- The evaluated key ("patch_host:web1") and the limit its runbook declares; null: no limit.
  ADD COLUMN concurrency_key text,
  ADD COLUMN concurrency_limit integer,
  -- The place the job holds under its key, 0 .. limit-1; null: none (yet, or any more).
  ADD COLUMN key_place integer;

-- A key always comes with a positive limit, and a place lies under it: with one limit per key, the
-- unique index below makes more than `limit` holders of a key unrepresentable.
ALTER TABLE jobs ADD CONSTRAINT jobs_key_has_limit
  CHECK ((concurrency_key IS NULL) = (concurrency_limit IS NULL) AND (concurrency_limit IS NULL OR concurrency_limit > 0));
ALTER TABLE jobs ADD CONSTRAINT jobs_key_place_under_limit
  CHECK (key_place IS NULL OR (concurrency_key IS NOT NULL AND key_place >= 0 AND key_place < concurrency_limit));
CREATE UNIQUE INDEX jobs_key_places ON jobs (concurrency_key, key_place) WHERE key_place IS NOT NULL;
-- A job under a key runs, sleeps, waits, or is due to be claimed only while it holds a place; an
-- ended job holds none. (A suspended job keeps the place it has: docs/runtime.md says why.)
ALTER TABLE jobs ADD CONSTRAINT jobs_key_held_when_active
  CHECK (concurrency_key IS NULL OR key_place IS NOT NULL OR status NOT IN ('running', 'sleeping', 'waiting'));
ALTER TABLE jobs ADD CONSTRAINT jobs_key_held_when_due
  CHECK (concurrency_key IS NULL OR key_place IS NOT NULL OR due_at IS NULL);
ALTER TABLE jobs ADD CONSTRAINT jobs_key_freed_when_ended
  CHECK (key_place IS NULL OR status NOT IN ('completed', 'failed', 'stopped'));
-- A queued job waiting for a place under its key has no due time (nothing claims it, so it never
-- makes a claim spin): migration 0004's rule, with that one exception.
ALTER TABLE jobs DROP CONSTRAINT jobs_due_when_queued_running_sleeping;
ALTER TABLE jobs ADD CONSTRAINT jobs_due_when_queued_running_sleeping
  CHECK (status NOT IN ('queued', 'running', 'sleeping') OR due_at IS NOT NULL
         OR (status = 'queued' AND concurrency_key IS NOT NULL AND key_place IS NULL));

-- The claim: a worker's group, highest priority first, then the oldest due time.
CREATE INDEX jobs_claim_order ON jobs (worker_group, priority DESC, due_at, slot) WHERE due_at IS NOT NULL;
-- The jobs waiting for a place under a key, in the order they get one.
CREATE INDEX jobs_key_waiting ON jobs (concurrency_key, priority DESC, created_at, id)
  WHERE status = 'queued' AND key_place IS NULL AND concurrency_key IS NOT NULL;

-- The group, key and limit of a new job of runbook `rb` in version `v` with these parameters.
-- Every statement that creates jobs calls it (runtime/sql/enqueue.ts), so the key is the same
-- however the job is created. A job's own group (`start --group`, a parent's) wins over the
-- runbook's declared one; the caller applies that.
-- A table function of one SELECT, so the planner inlines it into the insert (no call per row).
CREATE FUNCTION runbook_placement(v text, rb text, params json)
RETURNS TABLE (declared_group text, concurrency_key text, concurrency_limit integer)
LANGUAGE sql STABLE AS $$
  SELECT p->>'group',
         CASE WHEN c IS NULL THEN NULL
              WHEN json_typeof(c->'key') IS DISTINCT FROM 'array' THEN rb
              ELSE rb || ':' || (SELECT string_agg(CASE WHEN part->'param' IS NULL THEN part->>'text'
                                                        ELSE coalesce(params #>> ARRAY(SELECT json_array_elements_text(part->'param')), 'null') END,
                                                   '' ORDER BY n)
                                 FROM json_array_elements(c->'key') WITH ORDINALITY AS t(part, n)) END,
         (c->>'limit')::integer
  FROM (SELECT placement->rb AS p FROM versions WHERE hash = v) s, LATERAL (SELECT s.p->'concurrency' AS c) cc
$$;

-- Gives free places under key `k` to the jobs waiting for one, highest priority first, then in
-- the order they were queued. Called by the triggers below whenever a place may have freed up or
-- a job starts waiting: a job created, a holder ended or stopped, a waiter resumed.
--
-- Why it cannot lose a wake-up or hand out a place twice: every change of key_place from null
-- to a place happens here, under one transaction-level advisory lock; each statement below runs
-- on a fresh snapshot taken after the lock (PL/pgSQL, READ COMMITTED), so it sees every place
-- given or freed by a committed transaction. A freeing transaction that has not committed yet
-- looks like a holder (conservative), and it calls this function itself after its own change.
-- One lock for all keys (not one per key) because a batch of completions frees places of
-- several keys in row order: per-key locks taken in two orders would deadlock.
CREATE FUNCTION runbook_key_fill(k text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  w record;
  free integer;
BEGIN
  PERFORM pg_advisory_xact_lock(7243011);
  FOR w IN
    SELECT id, concurrency_limit FROM jobs
    WHERE concurrency_key = k AND status = 'queued' AND key_place IS NULL
    ORDER BY priority DESC, created_at, id
    -- A waiter locked by someone else is being stopped, suspended or resumed; that transaction
    -- calls this function again if the job still waits (the resume trigger), so none is stranded.
    FOR UPDATE SKIP LOCKED
  LOOP
    SELECT p INTO free FROM generate_series(0, w.concurrency_limit - 1) AS p
    WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE concurrency_key = k AND key_place = p)
    ORDER BY p LIMIT 1;
    -- Strictly in order: the first waiter that finds no place stops the filling.
    EXIT WHEN free IS NULL;
    UPDATE jobs SET key_place = free, due_at = now(), updated_at = now() WHERE id = w.id;
    PERFORM pg_notify('runbook', 'jobs');
  END LOOP;
END $$;

CREATE FUNCTION jobs_key_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM runbook_key_fill(NEW.concurrency_key);
  RETURN NULL;
END $$;

-- An ending job frees its place in the same statement that ends it, whichever statement that is
-- (a completion, a failure, an operator's stop, a drain's deadline).
CREATE FUNCTION jobs_key_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.key_place := NULL;
  RETURN NEW;
END $$;

CREATE TRIGGER jobs_key_free BEFORE UPDATE OF status ON jobs
  FOR EACH ROW
  WHEN (OLD.key_place IS NOT NULL AND NEW.status IN ('completed', 'failed', 'stopped'))
  EXECUTE FUNCTION jobs_key_free();

-- The WHEN clauses keep every other insert and update free of any function call.
CREATE TRIGGER jobs_key_fill_insert AFTER INSERT ON jobs
  FOR EACH ROW
  WHEN (NEW.concurrency_key IS NOT NULL)
  EXECUTE FUNCTION jobs_key_fill();

CREATE TRIGGER jobs_key_fill_update AFTER UPDATE ON jobs
  FOR EACH ROW
  WHEN (NEW.concurrency_key IS NOT NULL AND NEW.key_place IS NULL
        AND (OLD.key_place IS NOT NULL OR (NEW.status = 'queued' AND OLD.status <> 'queued')))
  EXECUTE FUNCTION jobs_key_fill();
