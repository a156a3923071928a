-- Named variables and credentials read by `asset(name)` and written by `runbook asset set`.
-- A plain asset keeps its JSON value in `value`; a secret keeps only `sealed`, an AES-256-GCM
-- envelope (runtime/builtins/asset.ts) whose key comes from RUNBOOK_SECRET_KEY, never stored here.
CREATE TABLE assets (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]{0,199}$'),
  secret boolean NOT NULL,
  value jsonb,
  sealed text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (CASE WHEN secret THEN sealed IS NOT NULL AND value IS NULL
              ELSE sealed IS NULL AND value IS NOT NULL END)
);
