-- Placeholder: version 0034 belongs to another branch of issue 17. Versions
-- must be dense, so the pgtext branch holds this no-op until the merge,
-- where the real 0034 replaces it (delete this file then).
SELECT 1;
