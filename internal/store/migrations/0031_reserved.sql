-- Placeholder: version 0031 belongs to another branch of issue 17. Versions
-- must be dense, so the pgsearch branch holds this no-op until the merge,
-- where the real 0031 replaces it (delete this file then).
SELECT 1;
