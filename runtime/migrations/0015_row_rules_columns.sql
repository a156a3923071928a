-- 0015: the row rules (0014) fire only for a statement that sets a column they read.
--
-- A row that keeps every one of those columns cannot break a rule it kept before, and every
-- write that sets one of them is checked; a BEFORE trigger that changes one of them
-- (jobs_key_free, key_place) fires only when status is set, which fires this one too. So a
-- checkpoint, which sets only the state, its label, time and count, the wait fields and
-- updated_at, skips the function call. Measured (3,000 fenced 2 KB checkpoints on one
-- connection, server CPU per checkpoint, commit included): 140-147 us with 0014's triggers,
-- 120-123 us with this one (117-120 us with both triggers dropped, the floor).
DROP TRIGGER jobs_zz_row_rules ON jobs;
CREATE TRIGGER jobs_zz_row_rules
  BEFORE INSERT OR UPDATE OF status, control, due_at, worker, lease_epoch, finished_at, schedule,
    schedule_tick, concurrency_key, concurrency_limit, key_place, branch_index, branch_key,
    branch_label, parent_id
  ON jobs
  FOR EACH ROW EXECUTE FUNCTION jobs_row_rules();
