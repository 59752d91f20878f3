-- The search index (internal/catalog/search), PostgreSQL full-text backend.
-- tsv holds the folded fields with weights A (name, title), B (keywords),
-- C (creators, variables), D (description); GIN-indexed. Every query
-- restricts class_id (and owner_id for owner-read rules) first.

CREATE TABLE search_classes (
	id BIGSERIAL PRIMARY KEY,
	kind TEXT NOT NULL,
	label TEXT NOT NULL,
	project TEXT NOT NULL,
	UNIQUE (kind, label, project)
);

CREATE TABLE search_docs (
	id TEXT COLLATE "C" PRIMARY KEY,
	class_id BIGINT NOT NULL REFERENCES search_classes(id),
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
	f_title TEXT COLLATE "C" NOT NULL,
	tsv TSVECTOR NOT NULL
);

CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv);

CREATE INDEX search_docs_class ON search_docs (class_id, owner_id);

CREATE INDEX search_docs_updated ON search_docs (updated_at, id);

CREATE INDEX search_docs_ftitle ON search_docs (f_title);

CREATE TABLE search_keywords (
	doc_id TEXT COLLATE "C" NOT NULL REFERENCES search_docs(id) ON DELETE CASCADE,
	keyword TEXT NOT NULL,
	fold TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (doc_id, keyword)
);

CREATE INDEX search_keywords_fold ON search_keywords (fold);

CREATE INDEX search_keywords_keyword ON search_keywords (keyword);
