-- Per-class facet counts for the PostgreSQL search backend
-- (internal/catalog/search/postgres.go), kept on write in the same
-- transaction as search_docs: n documents of class class_id have value
-- under facet (kind, domain, org, keyword, synthetic). The row with facet
-- '' and value '' counts the class's documents. An unfiltered browse sums
-- the readable classes' rows instead of scanning half the index; owner-read
-- documents are still counted from search_docs, so only readable documents
-- are ever counted (invariant 4). Rows may reach n = 0 and stay; readers
-- skip them.

CREATE TABLE search_class_facets (
	class_id BIGINT NOT NULL REFERENCES search_classes(id),
	facet TEXT COLLATE "C" NOT NULL,
	value TEXT COLLATE "C" NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (class_id, facet, value)
);

INSERT INTO search_class_facets (class_id, facet, value, n)
SELECT class_id, '', '', COUNT(*) FROM search_docs GROUP BY class_id;

INSERT INTO search_class_facets (class_id, facet, value, n)
SELECT class_id, 'kind', kind, COUNT(*) FROM search_docs WHERE kind <> '' GROUP BY class_id, kind;

INSERT INTO search_class_facets (class_id, facet, value, n)
SELECT class_id, 'domain', domain, COUNT(*) FROM search_docs WHERE domain <> '' GROUP BY class_id, domain;

INSERT INTO search_class_facets (class_id, facet, value, n)
SELECT class_id, 'org', org, COUNT(*) FROM search_docs WHERE org <> '' GROUP BY class_id, org;

INSERT INTO search_class_facets (class_id, facet, value, n)
SELECT class_id, 'synthetic', 'true', COUNT(*) FROM search_docs WHERE synthetic GROUP BY class_id;

INSERT INTO search_class_facets (class_id, facet, value, n)
SELECT d.class_id, 'keyword', k.keyword, COUNT(*) FROM search_keywords k JOIN search_docs d ON d.id = k.doc_id
GROUP BY d.class_id, k.keyword;

-- Filtered browses and searches narrow by these before visibility.
CREATE INDEX search_docs_domain_org ON search_docs (domain, org);

CREATE INDEX search_docs_org ON search_docs (org);

-- A class's generation changes (from one sequence, so a value is never
-- reused) in every transaction that changes the class's counts: a server
-- caches each class's counts under its generation and re-reads only the
-- classes whose generation moved.
CREATE SEQUENCE search_class_gen_seq;

CREATE TABLE search_class_gens (
	class_id BIGINT PRIMARY KEY REFERENCES search_classes(id),
	gen BIGINT NOT NULL
);

INSERT INTO search_class_gens (class_id, gen)
SELECT DISTINCT class_id, 0 FROM search_class_facets;

-- Owner-read documents are counted from the owner's rows.
CREATE INDEX search_docs_owner ON search_docs (owner_id, class_id);
