-- A binary older than this step would write documents without postings and
-- leave stale ones behind (searches then fail), so it must not run here:
-- store: requires 0035
-- Postings for the PostgreSQL search backend (internal/catalog/search,
-- postgres.go), the design of SQLite's 0013: tsvector @@ with ts_rank_cd
-- evaluated every readable match row by row (a common word or prefix is a
-- sequential scan, ~1 s at 2·10^5 documents); these lists let the index
-- read a word's matches as a few blobs and rank, count and facet them in
-- Go against an in-memory copy of each document's class, owner, facet
-- values and field lengths.
--
-- Every document gets a sequence number g, never reused, from the one row
-- of search_state: the UPDATE that takes it holds the row until commit,
-- so g grows in commit order across every replica (what the in-memory
-- copy relies on). search_postings holds, for each folded token and block
-- of 65,536 consecutive g, the block's documents containing the token
-- with its count per ranked field (encoding in postings.go). l0..l5 are
-- the token counts of the folded fields (name, title, keywords, creators,
-- variables, description) and search_stats their per-class sums, for BM25
-- over the readable corpus. Documents indexed before this migration have
-- no g (and zero lengths) until Reindex gives them one; until then word
-- queries go through the tsvector index.

ALTER TABLE search_docs ADD COLUMN g BIGINT;

ALTER TABLE search_docs ADD COLUMN l0 BIGINT NOT NULL DEFAULT 0;

ALTER TABLE search_docs ADD COLUMN l1 BIGINT NOT NULL DEFAULT 0;

ALTER TABLE search_docs ADD COLUMN l2 BIGINT NOT NULL DEFAULT 0;

ALTER TABLE search_docs ADD COLUMN l3 BIGINT NOT NULL DEFAULT 0;

ALTER TABLE search_docs ADD COLUMN l4 BIGINT NOT NULL DEFAULT 0;

ALTER TABLE search_docs ADD COLUMN l5 BIGINT NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX search_docs_g ON search_docs (g);

CREATE TABLE search_postings (
	term TEXT COLLATE "C" NOT NULL,
	block BIGINT NOT NULL,
	data BYTEA NOT NULL,
	PRIMARY KEY (term, block)
);

CREATE TABLE search_state (
	name TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);

INSERT INTO search_state (name, value) VALUES ('next_g', 1);

CREATE TABLE search_stats (
	class_id BIGINT PRIMARY KEY REFERENCES search_classes(id),
	n BIGINT NOT NULL,
	l0 BIGINT NOT NULL,
	l1 BIGINT NOT NULL,
	l2 BIGINT NOT NULL,
	l3 BIGINT NOT NULL,
	l4 BIGINT NOT NULL,
	l5 BIGINT NOT NULL
);

-- The caller's own documents in owner-readable classes are summed for
-- every ranked query: with the lengths in the owner index that is an
-- index-only scan.
DROP INDEX search_docs_owner;

CREATE INDEX search_docs_owner ON search_docs (owner_id, class_id) INCLUDE (g, l0, l1, l2, l3, l4, l5);
