-- 0016: a cheaper ANALYZE of `jobs` (issue 11; docs/runtime.md, "Statistics of jobs").
--
-- Autovacuum analyzes `jobs` about once a second under load: every job changes three row
-- versions (enqueue, claim, completion), so at 20,000 jobs/s a 200,000-row table passes any
-- analyze threshold within each naptime (0001's scale factor or PostgreSQL's). ANALYZE samples 300
-- rows per unit of the highest statistics target among a table's columns: 30,000 rows at the
-- default 100, which cost 100 ms of server CPU on a 100,000-job table. At 10 it samples 3,000.
-- Measured (bench/peers.ts backlog, 200,000 jobs, three interleaved triples): 21,945-22,758
-- jobs/s with the default targets, 23,213-23,971 with auto-analyze off, 23,241-24,276 at 10.
-- The planner's questions of `jobs` are coarse (statuses, versions, groups, due times), and
-- claim-plan.test.ts checks the claim's plans against statistics taken this way.
--
-- The sample is set by the highest target of any column, so every column has 10, and a column
-- added later must be set too (test/runtime/migrate.test.ts checks that none is left at the
-- default).
DO $$
DECLARE
  c text;
BEGIN
  FOR c IN SELECT attname FROM pg_attribute WHERE attrelid = 'jobs'::regclass AND attnum > 0 AND NOT attisdropped LOOP
    EXECUTE format('ALTER TABLE jobs ALTER COLUMN %I SET STATISTICS 10', c);
  END LOOP;
END $$;
