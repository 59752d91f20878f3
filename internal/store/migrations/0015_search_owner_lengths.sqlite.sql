-- The SQLite search backend sums the field lengths of the caller's own
-- documents in owner-readable classes for every ranked query (BM25 over
-- the readable corpus); with the lengths in the owner index that is an
-- index-only scan instead of one table lookup per document.

DROP INDEX search_docs_owner;

CREATE INDEX search_docs_owner ON search_docs (owner_id, doc, l0, l1, l2, l3, l4, l5);
