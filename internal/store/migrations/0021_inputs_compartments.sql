-- The compartments a deployment knows. A label marking may name only known
-- compartments (so a typo is refused, not turned into a compartment nobody
-- is read into): those registered here by an administrator, and those an
-- agreement grants (agreements.compartments).
CREATE TABLE compartments (
	name TEXT PRIMARY KEY,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
