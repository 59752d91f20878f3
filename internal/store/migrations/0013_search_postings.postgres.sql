-- The SQLite search backend's postings (0013_search_postings.sqlite.sql);
-- PostgreSQL's GIN index needs nothing new.
SELECT 1;
