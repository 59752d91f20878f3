-- The scheduler reads pending jobs not yet judged oldest first, the others
-- in rotation by ID; each site's load (jobs and nodes) and each project's
-- usage (node- and GPU-hours) without decoding every job's spec. Jobs
-- recorded before have NULL costs and are decoded.
ALTER TABLE jobs ADD COLUMN nodes INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN node_hours DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN gpu_hours DOUBLE PRECISION;
CREATE INDEX jobs_state_reason_created ON jobs (state, reason, created_at);
CREATE INDEX jobs_state_id ON jobs (state, id);
DROP INDEX jobs_state;
