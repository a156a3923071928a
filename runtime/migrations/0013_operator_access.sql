-- 0013: who may use the operator API (runtime/operator/access.ts). Only a hash of each secret is
-- stored: a token or a webhook URL is printed once, when it is made, and never again. The
-- secrets are 32 random bytes, so a plain SHA-256 is enough (a slow password hash buys nothing
-- against a guess of 256 bits, and would cost every API call).

-- API tokens: `Authorization: Bearer TOKEN`, or the console's session cookie holding one.
CREATE TABLE api_tokens (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);

-- Webhooks: a POST to /hooks/SECRET starts `runbook` with the body's fields over `params`.
CREATE TABLE webhooks (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
  runbook text NOT NULL,
  params json NOT NULL CHECK (json_typeof(params) = 'object'),
  hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz CHECK (expires_at > created_at),
  last_used_at timestamptz
);

-- The API's job list pages newest first by (created_at, id) (runtime/sql/inspect.ts). Neither
-- column ever changes, so checkpoints stay HOT updates.
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);

-- Checkpoint write latency as each worker process measured it (runtime/worker-metrics.ts), for
-- `GET /metrics` of `runbook serve`, which runs in another process: one row per worker process
-- ever started, its histogram so far (counts per bucket of runtime/worker-metrics.ts's bounds,
-- the last one +Inf). Rows of ended processes stay, so the sums only grow, as a counter should.
CREATE TABLE runbook_process_metrics (
  process text PRIMARY KEY,
  checkpoint_buckets bigint[] NOT NULL,
  checkpoint_sum_ms double precision NOT NULL CHECK (checkpoint_sum_ms >= 0),
  checkpoint_count bigint NOT NULL CHECK (checkpoint_count >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
