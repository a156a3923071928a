-- 0014: the rules a `jobs` row must keep, checked by one trigger instead of 13 CHECK constraints
-- (issue 11).
--
-- Why: PostgreSQL prepares every CHECK constraint of a table anew for each statement that writes
-- to it (the stored expression is parsed, planned and compiled per statement, ExecRelCheck), and
-- checks all of them whichever columns changed. With 13 of them, that was ~70 us of server CPU
-- per statement, before a row was written: a checkpoint (one row) cost ~215 us of server CPU
-- against ~135 us without them, and a completion or claim of a few rows paid it too (profiled:
-- pg_strtok/parseNodeString at the top; bench/statements.ts and the measurements in the commit).
-- A PL/pgSQL function's expressions are prepared once per session and kept, so the trigger
-- costs only its evaluation per row, which measured within the noise on claims of 500 rows.
--
-- The rules themselves are unchanged (see 0001, 0004, 0009, 0011 and 0012 for why each exists),
-- and the database still refuses every row that breaks one, on INSERT and UPDATE alike, with the
-- same error a CHECK gives: SQLSTATE 23514, 'new row for relation "jobs" violates check
-- constraint "NAME"', the constraint's old name in the message and in the error's constraint
-- field. As with a CHECK, a rule that is NULL (unknown) passes: `WHEN NOT (rule)` is not taken.
--
-- The trigger is named to sort after every other BEFORE trigger on jobs (they fire in name order),
-- so it sees the row as they leave it, as a CHECK does: jobs_key_free clears an ending job's
-- key_place first, and jobs_transition_guard's own message wins for a transition out of an
-- ended job.
CREATE FUNCTION jobs_row_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  broken text;
BEGIN
  broken := CASE
    WHEN NOT (NEW.status IN ('queued', 'running', 'sleeping', 'waiting', 'suspended', 'completed', 'failed', 'stopped'))
      THEN 'jobs_status_check'
    WHEN NOT (NEW.control IN ('suspend', 'stop'))
      THEN 'jobs_control_check'
    -- The claim decision (0004): only claimable statuses have a due time, and queued, running
    -- and sleeping jobs always have one (a queued job waiting for a concurrency key's place is
    -- the exception, 0011).
    WHEN NOT (NEW.due_at IS NULL OR NEW.status IN ('queued', 'running', 'sleeping', 'waiting'))
      THEN 'jobs_due_only_when_claimable'
    WHEN NOT (NEW.status NOT IN ('queued', 'running', 'sleeping') OR NEW.due_at IS NOT NULL
              OR (NEW.status = 'queued' AND NEW.concurrency_key IS NOT NULL AND NEW.key_place IS NULL))
      THEN 'jobs_due_when_queued_running_sleeping'
    WHEN NOT (NEW.status <> 'running' OR (NEW.worker IS NOT NULL AND NEW.lease_epoch > 0))
      THEN 'jobs_running_is_held'
    WHEN NOT (NEW.status NOT IN ('completed', 'failed', 'stopped') OR NEW.finished_at IS NOT NULL)
      THEN 'jobs_ended_has_time'
    -- Schedules (0009).
    WHEN NOT ((NEW.schedule IS NULL) = (NEW.schedule_tick IS NULL))
      THEN 'jobs_schedule_has_tick'
    -- Concurrency keys (0011).
    WHEN NOT ((NEW.concurrency_key IS NULL) = (NEW.concurrency_limit IS NULL)
              AND (NEW.concurrency_limit IS NULL OR NEW.concurrency_limit > 0))
      THEN 'jobs_key_has_limit'
    WHEN NOT (NEW.key_place IS NULL OR (NEW.concurrency_key IS NOT NULL AND NEW.key_place >= 0
                                        AND NEW.key_place < NEW.concurrency_limit))
      THEN 'jobs_key_place_under_limit'
    WHEN NOT (NEW.concurrency_key IS NULL OR NEW.key_place IS NOT NULL
              OR NEW.status NOT IN ('running', 'sleeping', 'waiting'))
      THEN 'jobs_key_held_when_active'
    WHEN NOT (NEW.concurrency_key IS NULL OR NEW.key_place IS NOT NULL OR NEW.due_at IS NULL)
      THEN 'jobs_key_held_when_due'
    WHEN NOT (NEW.key_place IS NULL OR NEW.status NOT IN ('completed', 'failed', 'stopped'))
      THEN 'jobs_key_freed_when_ended'
    -- `parallel for` branches (0012).
    WHEN NOT ((NEW.branch_index IS NULL AND NEW.branch_key IS NULL AND NEW.branch_label IS NULL)
              OR (NEW.branch_index >= 0 AND NEW.branch_key IS NOT NULL AND NEW.branch_label IS NOT NULL
                  AND NEW.parent_id IS NOT NULL))
      THEN 'jobs_branch_shape'
  END;
  IF broken IS NOT NULL THEN
    RAISE EXCEPTION 'new row for relation "jobs" violates check constraint "%"', broken
      USING ERRCODE = 'check_violation', CONSTRAINT = broken, TABLE = 'jobs',
            DETAIL = format('Failing row: job %s, status %s.', NEW.id, NEW.status);
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER jobs_zz_row_rules BEFORE INSERT OR UPDATE ON jobs
  FOR EACH ROW EXECUTE FUNCTION jobs_row_rules();

ALTER TABLE jobs
  DROP CONSTRAINT jobs_status_check,
  DROP CONSTRAINT jobs_control_check,
  DROP CONSTRAINT jobs_due_only_when_claimable,
  DROP CONSTRAINT jobs_due_when_queued_running_sleeping,
  DROP CONSTRAINT jobs_running_is_held,
  DROP CONSTRAINT jobs_ended_has_time,
  DROP CONSTRAINT jobs_schedule_has_tick,
  DROP CONSTRAINT jobs_key_has_limit,
  DROP CONSTRAINT jobs_key_place_under_limit,
  DROP CONSTRAINT jobs_key_held_when_active,
  DROP CONSTRAINT jobs_key_held_when_due,
  DROP CONSTRAINT jobs_key_freed_when_ended,
  DROP CONSTRAINT jobs_branch_shape;

-- The same cost, smaller: an AFTER UPDATE trigger's WHEN clause is also prepared per statement,
-- for every UPDATE of the table. jobs_key_fill_update's condition can only hold when the
-- statement sets status or key_place (no BEFORE trigger changes either otherwise:
-- jobs_key_free runs only when status is set), so it now names them, and a checkpoint, a
-- heartbeat or a park that sets neither never prepares it. Its condition is unchanged (0011).
DROP TRIGGER jobs_key_fill_update ON jobs;
CREATE TRIGGER jobs_key_fill_update AFTER UPDATE OF status, key_place ON jobs
  FOR EACH ROW
  WHEN (NEW.concurrency_key IS NOT NULL AND NEW.key_place IS NULL
        AND (OLD.key_place IS NOT NULL OR (NEW.status = 'queued' AND OLD.status <> 'queued')))
  EXECUTE FUNCTION jobs_key_fill();
