-- The literature (internal/lit/library): the publications imported, their
-- passages, the facts extracted from them, their references and the
-- citation edges between them, and passage embeddings. Rows are keyed by
-- publication: one document imported at two labels (polyinstantiated) is
-- two publications whose passages have the same IDs.

CREATE TABLE lit_publications (
	id TEXT PRIMARY KEY REFERENCES assets(id),
	-- the version the passages are of, and the join of its label and the
	-- publication's: what a reader must be cleared for
	version BIGINT NOT NULL,
	label TEXT NOT NULL,
	project_id TEXT NOT NULL,
	owner_id TEXT NOT NULL,
	source_id TEXT NOT NULL,
	doi TEXT NOT NULL,
	arxiv TEXT NOT NULL,
	pmid TEXT NOT NULL,
	-- the title folded for matching references without identifiers
	title_key TEXT NOT NULL,
	format TEXT NOT NULL,
	citation TEXT NOT NULL, -- lit.Citation JSON
	abstract TEXT NOT NULL,
	imported_at BIGINT NOT NULL
);

CREATE INDEX lit_publications_doi ON lit_publications (doi);
CREATE INDEX lit_publications_arxiv ON lit_publications (arxiv);
CREATE INDEX lit_publications_pmid ON lit_publications (pmid);
CREATE INDEX lit_publications_title ON lit_publications (title_key);

CREATE TABLE lit_passages (
	publication TEXT NOT NULL REFERENCES lit_publications(id),
	id TEXT NOT NULL,
	ordinal INTEGER NOT NULL,
	kind TEXT NOT NULL,
	section TEXT NOT NULL,
	text TEXT NOT NULL,
	PRIMARY KEY (publication, id)
);

CREATE INDEX lit_passages_id ON lit_passages (id);
CREATE UNIQUE INDEX lit_passages_ordinal ON lit_passages (publication, ordinal);

CREATE TABLE lit_facts (
	publication TEXT NOT NULL REFERENCES lit_publications(id),
	id TEXT NOT NULL,
	passage TEXT NOT NULL,
	property TEXT NOT NULL,
	material TEXT NOT NULL,
	material_key TEXT NOT NULL, -- lower case, for matching
	formula TEXT NOT NULL,
	formula_key TEXT NOT NULL,
	value DOUBLE PRECISION NOT NULL,
	unit TEXT NOT NULL,
	raw TEXT NOT NULL,
	conditions TEXT NOT NULL, -- []lit.Condition JSON
	methods TEXT NOT NULL,    -- []string JSON
	span_start INTEGER NOT NULL,
	span_end INTEGER NOT NULL,
	statement TEXT NOT NULL,
	PRIMARY KEY (publication, id)
);

CREATE INDEX lit_facts_id ON lit_facts (id, publication);
CREATE INDEX lit_facts_property ON lit_facts (property, id);

-- The references a publication's latest import lists, normalised.
CREATE TABLE lit_refs (
	publication TEXT NOT NULL REFERENCES lit_publications(id),
	ordinal INTEGER NOT NULL,
	doi TEXT NOT NULL,
	arxiv TEXT NOT NULL,
	pmid TEXT NOT NULL,
	title_key TEXT NOT NULL,
	PRIMARY KEY (publication, ordinal)
);

CREATE INDEX lit_refs_doi ON lit_refs (doi);
CREATE INDEX lit_refs_arxiv ON lit_refs (arxiv);
CREATE INDEX lit_refs_pmid ON lit_refs (pmid);
CREATE INDEX lit_refs_title ON lit_refs (title_key);

-- Citation edges between imported publications, whoever may read them:
-- readers see the edges between publications they may read.
CREATE TABLE lit_citations (
	citing TEXT NOT NULL REFERENCES lit_publications(id),
	cited TEXT NOT NULL REFERENCES lit_publications(id),
	PRIMARY KEY (citing, cited)
);

CREATE INDEX lit_citations_cited ON lit_citations (cited);

-- Passage embeddings, per model: little-endian float32s.
CREATE TABLE lit_vectors (
	publication TEXT NOT NULL REFERENCES lit_publications(id),
	passage TEXT NOT NULL,
	model TEXT NOT NULL,
	dim INTEGER NOT NULL,
	vec BYTEA NOT NULL,
	PRIMARY KEY (publication, passage, model)
);

CREATE INDEX lit_vectors_model ON lit_vectors (model, publication);
