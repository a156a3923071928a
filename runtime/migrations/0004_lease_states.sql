-- 0004: the lease protocol's states, enforced by the database (RUNTIME.md promise 6).
--
-- Measured before this migration (issue 9): with no fault at all, 3 of 2,000 completed jobs and
-- 3 of 2,000 suspended ones became claimable again, because a heartbeat renewed a lease it had
-- read as `running` in its snapshot after the job had ended or parked. The statements are fixed
-- (each re-checks status and epoch on the row it writes); these rules make the next writer that
-- forgets to do so fail loudly instead of silently running a job twice.

-- Rows the race already broke are mended first (an ended or suspended job never needs a due time).
UPDATE jobs SET due_at = NULL WHERE due_at IS NOT NULL AND status IN ('completed', 'failed', 'stopped', 'suspended');
UPDATE jobs SET finished_at = updated_at WHERE finished_at IS NULL AND status IN ('completed', 'failed', 'stopped');

-- Only a claimable job has a due time: a finished or suspended job can never be claimed.
ALTER TABLE jobs ADD CONSTRAINT jobs_due_only_when_claimable
  CHECK (due_at IS NULL OR status IN ('queued', 'running', 'sleeping', 'waiting'));
-- A queued or sleeping job is always claimable at some time, and a running one has a lease expiry.
-- (A waiting job has no due time when it waits for a signal with no timeout.)
ALTER TABLE jobs ADD CONSTRAINT jobs_due_when_queued_running_sleeping
  CHECK (status NOT IN ('queued', 'running', 'sleeping') OR due_at IS NOT NULL);
-- A running job is always held by a worker, under a lease epoch it was claimed with.
ALTER TABLE jobs ADD CONSTRAINT jobs_running_is_held
  CHECK (status <> 'running' OR (worker IS NOT NULL AND lease_epoch > 0));
-- A job that has ended says when.
ALTER TABLE jobs ADD CONSTRAINT jobs_ended_has_time
  CHECK (status NOT IN ('completed', 'failed', 'stopped') OR finished_at IS NOT NULL);

-- Transitions a CHECK cannot see (it has no old row): an ended job never changes status again,
-- and a suspended job leaves `suspended` only through an operator's resume (to `queued`) or stop,
-- which say so with `SET LOCAL runbook.actor` (runtime/sql/control.ts). The WHEN clause keeps the
-- hot path free of any function call: the trigger runs only for rows leaving those statuses.
CREATE FUNCTION jobs_refuse_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status IN ('completed', 'failed', 'stopped') THEN
    RAISE EXCEPTION 'job % has ended (%); it cannot become %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status NOT IN ('queued', 'stopped') OR coalesce(current_setting('runbook.actor', true), '') = '' THEN
    RAISE EXCEPTION 'job % is suspended; only an operator''s resume or stop moves it (not to %)', OLD.id, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER jobs_transition_guard BEFORE UPDATE OF status ON jobs
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status AND OLD.status IN ('completed', 'failed', 'stopped', 'suspended'))
  EXECUTE FUNCTION jobs_refuse_transition();
