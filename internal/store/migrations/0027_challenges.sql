-- National challenges (issue 15): a problem statement, measurable targets
-- and links to the platform's objects, stored by ID. Progress is computed
-- on read from the linked campaigns and models, as the reader sees them.

CREATE TABLE challenges (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	title TEXT NOT NULL,
	domain TEXT NOT NULL,
	statement TEXT NOT NULL,
	-- organisation IDs: the lead, and the partners (JSON list)
	lead_org TEXT NOT NULL REFERENCES organizations(id),
	partners TEXT NOT NULL,
	-- JSON lists of targets (canonical units) and links (kind, id, …)
	targets TEXT NOT NULL,
	links TEXT NOT NULL,
	label TEXT NOT NULL,
	demo INTEGER NOT NULL,
	owner_id TEXT NOT NULL REFERENCES principals(id),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE INDEX challenges_name ON challenges (name);
CREATE INDEX challenges_created ON challenges (created_at, id);
