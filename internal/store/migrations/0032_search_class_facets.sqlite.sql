-- The PostgreSQL search backend's per-class facet counts
-- (0032_search_class_facets.postgres.sql); SQLite keeps its own in
-- search_facet_counts (0013) and needs nothing new.
SELECT 1;
