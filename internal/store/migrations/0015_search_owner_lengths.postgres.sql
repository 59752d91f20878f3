-- The SQLite search backend's owner index (0015_search_owner_lengths.sqlite.sql);
-- nothing to do on PostgreSQL.
SELECT 1;
