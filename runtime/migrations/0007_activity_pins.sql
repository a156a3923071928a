-- 0007: activity code pinned to a published version (runtime/activity-pins.ts). A version records
-- a hash of each activity module its runbooks use; a worker whose module differs refuses the
-- version's jobs, or runs them anyway and says so in their history when published with
-- `--run-changed-activities` (activity_drift = 'run'). Versions published before this pin nothing.
ALTER TABLE versions
  ADD COLUMN activities jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN activity_drift text NOT NULL DEFAULT 'refuse' CHECK (activity_drift IN ('refuse', 'run'));
