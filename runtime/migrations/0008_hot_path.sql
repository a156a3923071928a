-- 0008: a cheaper hot path (issue 11). Measured before: per no-op job, a claim and a completion
-- UPDATE of the jobs row (neither HOT) and three job_history rows (enqueue, claim, completion).
--
-- * A job's first claim and its completion no longer write a history row (runtime/sql/claim.ts,
--   complete.ts): the job row says both, in `started_at` (new here), `finished_at` and `worker`,
--   and `runbook job` shows them in the history from there (runtime/sql/inspect.ts). Every
--   other transition (takeovers, wakes, parks, hand-overs, failures, operators) keeps its row.
ALTER TABLE jobs ADD COLUMN started_at timestamptz;
-- Jobs that already ran: their first claim is in their history.
UPDATE jobs j SET started_at = h.at
FROM (SELECT job_id, min(at) AS at FROM job_history WHERE to_status = 'running' GROUP BY job_id) h
WHERE h.job_id = j.id;

-- * jobs_running_worker was maintained by every claim (a new entry) and served one query only,
--   `runbook workers`' count of each worker's running jobs, which now reads jobs_claimable (a
--   running job always has a due time: its lease expiry). One index less to write per claim.
--   The heartbeat renews leases by id (the primary key), never by worker.
DROP INDEX jobs_running_worker;

-- * Claims are counted per worker (runtime/sql/claim.ts adds each claim statement's jobs to its
--   own worker's row, so workers never wait on one another for it): with no history row for a
--   first claim, /metrics' runbook_claims_total reads this (runtime/sql/metrics.ts).
ALTER TABLE workers ADD COLUMN claims bigint NOT NULL DEFAULT 0;
