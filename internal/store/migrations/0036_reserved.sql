-- Placeholder: version 0036 belongs to another branch of issue 17. Versions
-- must be dense, so the twice branch holds this no-op until the merge,
-- where the real 0036 replaces it (delete this file then).
SELECT 1;
