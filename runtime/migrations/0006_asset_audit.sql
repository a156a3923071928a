-- 0006: every read and write of a secret asset, with who made it: a job (and the worker that ran
-- it) or an operator's command. Never a value: the asset's name, the action and the actor only.
-- Written in the same statement as the read or write itself (runtime/builtins/asset.ts), so
-- there is no read without its row.
CREATE TABLE asset_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  asset text NOT NULL,
  action text NOT NULL CHECK (action IN ('read', 'write', 'delete', 'rekey')),
  -- The job that read or wrote it (null: an operator's command), and the worker running it.
  job_id text,
  worker text,
  -- `job` for a job; for a command, its user, host and the command (`alice@ops1: asset set`).
  actor text NOT NULL,
  CHECK (job_id IS NOT NULL OR worker IS NULL)
);
CREATE INDEX asset_audit_asset ON asset_audit (asset, at);
CREATE INDEX asset_audit_job ON asset_audit (job_id) WHERE job_id IS NOT NULL;
