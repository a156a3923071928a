-- 0010: finished jobs are removed by age (`runbook prune`, the workers' retention pass), in small
-- batches ordered by finish time, so this index finds the oldest at once however many there are.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
-- A pruned job's signals go with it; signals_pending only covers the unconsumed ones.
CREATE INDEX signals_job ON signals (job_id);
