-- PostgreSQL's search postings (0035_search_postings.postgres.sql); SQLite
-- has had its own since 0013.
SELECT 1;
