-- Postings for the SQLite search backend (internal/catalog/search,
-- postings.go). FTS5 ranks and filters row by row, which costs microseconds
-- per matching document; these lists let the index read a common word's
-- matches as a few blobs and score, count and facet them in Go.
--
-- Every document gets a global sequence number g, never reused (next in
-- search_state). search_postings holds, for each folded token and each
-- block of 65,536 consecutive g, the documents of the block containing the
-- token, with the token's count in each ranked field (encoding in
-- postings.go). The lists are complete when no document lacks g; until
-- then (documents indexed before this migration) the index searches
-- through FTS5.

ALTER TABLE search_docs ADD COLUMN g INTEGER;

CREATE UNIQUE INDEX search_docs_g ON search_docs (g);

CREATE TABLE search_postings (
	term TEXT NOT NULL,
	block INTEGER NOT NULL,
	data BLOB NOT NULL,
	PRIMARY KEY (term, block)
) WITHOUT ROWID;

CREATE TABLE search_state (
	name TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);

INSERT INTO search_state (name, value) VALUES ('next_g', 1);
