-- The search index (internal/catalog/search), SQLite FTS5 backend.
-- A document's rowid is class_id << 32 | n: its visibility class is
-- rowid >> 32, so FTS5 matches are filtered by class without a table
-- lookup. search_stats and search_facet_counts are per-class aggregates
-- kept by Upsert/Delete: readable-corpus statistics for BM25 and browse
-- facets are sums over readable classes (plus, for owner-read rules, a scan
-- of the owner's own documents). l0..l5 are the token counts of the folded
-- fields.

CREATE TABLE search_classes (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	label TEXT NOT NULL,
	project TEXT NOT NULL,
	UNIQUE (kind, label, project)
);

CREATE TABLE search_docs (
	doc INTEGER PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	owner_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	domain TEXT NOT NULL,
	org TEXT NOT NULL,
	project TEXT NOT NULL,
	label TEXT NOT NULL,
	name TEXT NOT NULL,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	keywords TEXT NOT NULL,
	creators TEXT NOT NULL,
	variables TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	f_name TEXT NOT NULL,
	f_title TEXT NOT NULL,
	f_keywords TEXT NOT NULL,
	f_creators TEXT NOT NULL,
	f_variables TEXT NOT NULL,
	f_description TEXT NOT NULL,
	l0 BIGINT NOT NULL,
	l1 BIGINT NOT NULL,
	l2 BIGINT NOT NULL,
	l3 BIGINT NOT NULL,
	l4 BIGINT NOT NULL,
	l5 BIGINT NOT NULL
);

CREATE INDEX search_docs_updated ON search_docs (updated_at, id);

CREATE INDEX search_docs_ftitle ON search_docs (f_title);

CREATE INDEX search_docs_domain ON search_docs (domain);

CREATE INDEX search_docs_org ON search_docs (org);

CREATE INDEX search_docs_owner ON search_docs (owner_id, doc);

CREATE VIRTUAL TABLE search_fts USING fts5(f_name, f_title, f_keywords, f_creators, f_variables, f_description, content='search_docs', content_rowid='doc', tokenize='unicode61 remove_diacritics 0', detail='full');

CREATE TABLE search_keywords (
	doc INTEGER NOT NULL,
	keyword TEXT NOT NULL,
	fold TEXT NOT NULL,
	PRIMARY KEY (doc, keyword)
) WITHOUT ROWID;

CREATE INDEX search_keywords_fold ON search_keywords (fold);

CREATE INDEX search_keywords_keyword ON search_keywords (keyword, doc);

CREATE TABLE search_stats (
	class_id INTEGER PRIMARY KEY,
	n BIGINT NOT NULL,
	l0 BIGINT NOT NULL,
	l1 BIGINT NOT NULL,
	l2 BIGINT NOT NULL,
	l3 BIGINT NOT NULL,
	l4 BIGINT NOT NULL,
	l5 BIGINT NOT NULL
);

-- One row per class: its facet counts encoded as text lines
-- "facet TAB value TAB count" (see search/facetblob.go). Browse facets read
-- one row per readable class instead of one per (class, value).
CREATE TABLE search_facet_counts (
	class_id INTEGER PRIMARY KEY,
	counts TEXT NOT NULL
);
