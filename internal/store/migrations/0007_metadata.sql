-- Harmonised core metadata per asset (JSON), where it came from, its
-- quality score, an optional domain extension, and the JSON Schemas that
-- stewards register for extensions.

CREATE TABLE asset_metadata (
	asset_id TEXT PRIMARY KEY REFERENCES assets(id),
	core TEXT NOT NULL,
	provenance TEXT NOT NULL,
	format TEXT NOT NULL,
	source_id TEXT NOT NULL,
	original TEXT NOT NULL,
	quality INTEGER NOT NULL,
	findings TEXT NOT NULL,
	extension_schema TEXT NOT NULL,
	extension TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX asset_metadata_source ON asset_metadata (source_id) WHERE source_id <> '';

CREATE TABLE extension_schemas (
	name TEXT PRIMARY KEY,
	source TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
