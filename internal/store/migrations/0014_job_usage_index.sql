-- A project's usage is summed every scheduling round: from an index that
-- holds every column the sum reads.
CREATE INDEX jobs_project_usage ON jobs (project_id, site, state, nodes, node_hours, gpu_hours, started_at, finished_at);
