-- Jobs: PSI/J specs with their computed label, placement, backend state and
-- the versions their outputs became.

CREATE TABLE jobs (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	owner_id TEXT NOT NULL REFERENCES principals(id),
	project_id TEXT,
	spec TEXT NOT NULL,
	label TEXT NOT NULL,
	inputs TEXT NOT NULL,
	input_bytes BIGINT NOT NULL,
	state TEXT NOT NULL,
	site TEXT NOT NULL,
	backend_id TEXT NOT NULL,
	reason TEXT NOT NULL,
	detail TEXT NOT NULL,
	exit_code INTEGER NOT NULL,
	explain TEXT NOT NULL,
	outputs TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	started_at BIGINT,
	finished_at BIGINT
);

CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_owner ON jobs (owner_id);
