-- Job lists page newest first by (created_at, id), for everyone's jobs or
-- one owner's; both columns never change after a job is submitted, so
-- these indexes cost the scheduler's updates nothing.
CREATE INDEX jobs_created ON jobs (created_at, id);
CREATE INDEX jobs_owner_created ON jobs (owner_id, created_at, id);
