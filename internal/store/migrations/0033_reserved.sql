-- Placeholder: version 0033 belongs to another branch of issue 17. Versions
-- must be dense, so the pgtext branch holds this no-op until the merge,
-- where the real 0033 replaces it (delete this file then).
SELECT 1;
