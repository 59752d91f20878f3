-- The SQLite search backend counts facets of a filtered browse over every
-- readable document passing the filters: with the facet columns in the
-- domain and org indexes (doc, the rowid, is in every index) that is an
-- index-only scan instead of one table lookup per document, and a domain
-- and org filter together narrow by both.

DROP INDEX search_docs_domain;

DROP INDEX search_docs_org;

CREATE INDEX search_docs_domain ON search_docs (domain, org, kind, keywords);

CREATE INDEX search_docs_org ON search_docs (org, domain, kind, keywords);
