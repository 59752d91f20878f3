-- A binary older than this step would write documents without postings and
-- leave stale ones behind (searches then fail), so it must not run here:
-- store: requires 0035
-- PostgreSQL's search postings (0035_search_postings.postgres.sql); SQLite
-- has had its own since 0013.
SELECT 1;
