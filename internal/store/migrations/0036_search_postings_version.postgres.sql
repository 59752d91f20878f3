-- Every search_postings row gets a version, unique across every row and
-- every change of it (one sequence: an insert takes a number by default,
-- and a trigger gives every update a new one, whichever binary writes it,
-- so this is an expand step). A replica keeps blobs in memory keyed by
-- version (internal/catalog/search, blobcache.go) and asks PostgreSQL for
-- the versions of a term's rows (a few numbers) instead of their blobs
-- (megabytes for a common word at 10^6 documents): a cached blob is served
-- only while its row still has the version it was read with.
-- The volatile default rewrites the table once, numbering every row.

CREATE SEQUENCE search_postings_version_seq;

ALTER TABLE search_postings ADD COLUMN version BIGINT NOT NULL DEFAULT nextval('search_postings_version_seq');

CREATE FUNCTION search_postings_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.version := nextval('search_postings_version_seq'); RETURN NEW; END $$;

CREATE TRIGGER search_postings_version BEFORE UPDATE ON search_postings FOR EACH ROW EXECUTE FUNCTION search_postings_version();
