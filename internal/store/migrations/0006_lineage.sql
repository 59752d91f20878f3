-- Lineage: which asset versions a version was derived from, and by what
-- activity (a put with inputs, a job, a campaign step, an import, a
-- declassification), in the spirit of W3C PROV: entity ← activity ← entities.

CREATE TABLE lineage_edges (
	child_asset TEXT NOT NULL REFERENCES assets(id),
	child_version BIGINT NOT NULL,
	parent_asset TEXT NOT NULL REFERENCES assets(id),
	parent_version BIGINT NOT NULL,
	activity TEXT NOT NULL,
	activity_id TEXT NOT NULL,
	agent TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (child_asset, child_version, parent_asset, parent_version)
);

CREATE INDEX lineage_parent ON lineage_edges (parent_asset, parent_version);

-- Model versions: framework, task, metrics and card beside the artifacts.
CREATE TABLE model_versions (
	asset_id TEXT NOT NULL REFERENCES assets(id),
	version BIGINT NOT NULL,
	framework TEXT NOT NULL,
	task TEXT NOT NULL,
	metrics TEXT NOT NULL,
	card TEXT NOT NULL,
	PRIMARY KEY (asset_id, version)
);
