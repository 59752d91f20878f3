-- Each scheduling round sums the jobs and nodes at every site from an index
-- that holds the columns it reads.
CREATE INDEX jobs_state_site_nodes ON jobs (state, site, nodes);
