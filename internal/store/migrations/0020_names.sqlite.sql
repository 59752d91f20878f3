-- Asset names are unique only among the assets one principal may read
-- (polyinstantiation; docs/DESIGN.md, "Names"): the catalog checks that in
-- the creating transaction, so the table no longer holds name UNIQUE.
-- SQLite cannot drop a column constraint: the table is rebuilt, its
-- documented way, with foreign-key enforcement off for the transaction
-- (the next line; store.ForeignKeysOff) and foreign_key_check before the
-- commit. Its children (versions, chunks, releases, lineage, metadata,
-- model versions) refer to assets(id) by the table's name, so they refer
-- to the new table once it is renamed.
-- store: foreign_keys off

CREATE TABLE assets_new (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	label TEXT NOT NULL,
	project_id TEXT REFERENCES projects(id),
	owner_id TEXT NOT NULL REFERENCES principals(id),
	latest_version BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

INSERT INTO assets_new (id, kind, name, title, description, label, project_id, owner_id, latest_version, created_at, updated_at)
	SELECT id, kind, name, title, description, label, project_id, owner_id, latest_version, created_at, updated_at FROM assets;

DROP TABLE assets;

ALTER TABLE assets_new RENAME TO assets;

CREATE INDEX assets_project ON assets (project_id);

-- A name resolves to the oldest readable asset that bears it: (name,
-- created_at, id) is also the asset lists' order.
CREATE INDEX assets_name ON assets (name, created_at, id);

-- Source identifiers of imported records are held per principal's view
-- the same way (an import updates the oldest readable asset that holds
-- one, or makes a new one): no longer UNIQUE.
DROP INDEX asset_metadata_source;

CREATE INDEX asset_metadata_source ON asset_metadata (source_id) WHERE source_id <> '';
