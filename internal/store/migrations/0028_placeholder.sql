-- PLACEHOLDER so that 0029 applies on branch partners (versions must be dense).
-- The integrator deletes this file when merging the branch that owns 0028.
SELECT 1;
