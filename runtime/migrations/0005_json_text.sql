-- 0005: every value a job sees is stored as `json`, which keeps the text the runtime wrote byte
-- for byte (runtime/json-text.ts), instead of `jsonb`, which reorders object keys (shorter keys
-- first), keeps only the last of duplicate keys and rejects \u0000. A map saved with keys zz, a
-- came back as a, zz after a resume. No query looks inside these columns, so nothing needs
-- jsonb's operators or indexes. See docs/runtime.md, "How values are stored".
--
-- Rows stored before this migration keep the order jsonb gave them: their original order is lost.
ALTER TABLE jobs
  ALTER COLUMN params TYPE json USING params::json,
  ALTER COLUMN state TYPE json USING state::json,
  ALTER COLUMN result TYPE json USING result::json,
  ALTER COLUMN error TYPE json USING error::json;
ALTER TABLE job_streams ALTER COLUMN value TYPE json USING value::json;
ALTER TABLE signals ALTER COLUMN payload TYPE json USING payload::json;
-- A parameter's declared type (a record's fields in their declared order) and the bundle's modules.
ALTER TABLE versions
  ALTER COLUMN params TYPE json USING params::json,
  ALTER COLUMN modules TYPE json USING modules::json;
-- asset("name") gives a runbook the map the operator set, keys in the order written.
ALTER TABLE assets ALTER COLUMN value TYPE json USING value::json;
