-- 0012: `parallel for` branches (docs/runtime.md, "Parallel branches"). A branch is a child job
-- (parent_id) that also names the `parallel for` run that started it (branch_key: the parent's
-- sequence number for it) and its element (branch_index, and branch_label as operators see it).
ALTER TABLE jobs
  ADD COLUMN branch_key integer,
  ADD COLUMN branch_index integer,
  ADD COLUMN branch_label text,
  ADD CONSTRAINT jobs_branch_shape CHECK (
    (branch_index IS NULL AND branch_key IS NULL AND branch_label IS NULL)
    OR (branch_index >= 0 AND branch_key IS NOT NULL AND branch_label IS NOT NULL AND parent_id IS NOT NULL)
  );

-- One job per element of one `parallel for` run: a branch can never be started twice, whatever
-- id a writer picks. Also the parent's lookup of its branches.
CREATE UNIQUE INDEX jobs_branch ON jobs (parent_id, branch_key, branch_index) WHERE branch_index IS NOT NULL;
