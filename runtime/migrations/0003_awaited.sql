-- 0003: a job that some other job awaits is marked, so its final write knows whether anyone
-- must be woken (most jobs are awaited by no one, and their completion stays one statement).
ALTER TABLE jobs ADD COLUMN awaited boolean NOT NULL DEFAULT false;
