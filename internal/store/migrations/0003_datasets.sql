-- The catalog's assets (datasets now; models later) and their immutable
-- versions, the chunks each asset has been sent (for scoped dedup, resumed
-- uploads and the gc grace period), and release (declassification) records.

CREATE TABLE assets (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	name TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	label TEXT NOT NULL,
	project_id TEXT REFERENCES projects(id),
	owner_id TEXT NOT NULL REFERENCES principals(id),
	latest_version BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE INDEX assets_project ON assets (project_id);

CREATE TABLE asset_versions (
	asset_id TEXT NOT NULL REFERENCES assets(id),
	version BIGINT NOT NULL,
	manifest TEXT NOT NULL,
	parent BIGINT,
	message TEXT NOT NULL,
	total_bytes BIGINT NOT NULL,
	file_count BIGINT NOT NULL,
	label TEXT NOT NULL,
	release_id TEXT,
	created_by TEXT NOT NULL REFERENCES principals(id),
	created_at BIGINT NOT NULL,
	PRIMARY KEY (asset_id, version)
);

CREATE TABLE asset_chunks (
	asset_id TEXT NOT NULL REFERENCES assets(id),
	chunk TEXT NOT NULL,
	uploaded_by TEXT NOT NULL,
	uploaded_at BIGINT NOT NULL,
	committed BOOLEAN NOT NULL,
	PRIMARY KEY (asset_id, chunk)
);

CREATE INDEX asset_chunks_chunk ON asset_chunks (chunk);

CREATE TABLE releases (
	id TEXT PRIMARY KEY,
	asset_id TEXT NOT NULL REFERENCES assets(id),
	version BIGINT NOT NULL,
	from_label TEXT NOT NULL,
	to_label TEXT NOT NULL,
	justification TEXT NOT NULL,
	state TEXT NOT NULL,
	requested_by TEXT NOT NULL REFERENCES principals(id),
	requested_at BIGINT NOT NULL,
	decided_by TEXT REFERENCES principals(id),
	decided_at BIGINT,
	new_version BIGINT
);
