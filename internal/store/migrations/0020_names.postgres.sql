-- Asset names are unique only among the assets one principal may read
-- (polyinstantiation; docs/DESIGN.md, "Names"): the catalog checks that in
-- the creating (SERIALIZABLE) transaction, so the table no longer holds
-- name UNIQUE. A name resolves to the oldest readable asset that bears it:
-- (name, created_at, id) is also the asset lists' order.
ALTER TABLE assets DROP CONSTRAINT IF EXISTS assets_name_key;

CREATE INDEX assets_name ON assets (name, created_at, id);
