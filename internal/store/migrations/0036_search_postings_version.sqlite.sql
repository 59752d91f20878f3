-- PostgreSQL's postings versions (0036_search_postings_version.postgres.sql):
-- SQLite's postings are read from the local file and need none.
SELECT 1;
