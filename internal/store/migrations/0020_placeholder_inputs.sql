-- Placeholder on branch inputs only, so that 0023 is dense: DROP THIS FILE AT MERGE
-- (the real 0020 comes from another branch).
CREATE TABLE inputs_placeholder_20 (x INTEGER);
DROP TABLE inputs_placeholder_20;
