-- The SQLite search backend's facet indexes (0016_search_facet_indexes.sqlite.sql);
-- nothing to do on PostgreSQL.
SELECT 1;
