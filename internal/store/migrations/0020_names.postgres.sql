-- Asset names are unique only among the assets one principal may read
-- (polyinstantiation; docs/DESIGN.md, "Names"): the catalog checks that in
-- the creating (SERIALIZABLE) transaction, so the table no longer holds
-- name UNIQUE. A name resolves to the oldest readable asset that bears it:
-- (name, created_at, id) is also the asset lists' order.
ALTER TABLE assets DROP CONSTRAINT IF EXISTS assets_name_key;

CREATE INDEX assets_name ON assets (name, created_at, id);

-- Source identifiers of imported records are held per principal's view
-- the same way (an import updates the oldest readable asset that holds
-- one, or makes a new one): no longer UNIQUE.
DROP INDEX asset_metadata_source;

CREATE INDEX asset_metadata_source ON asset_metadata (source_id) WHERE source_id <> '';
