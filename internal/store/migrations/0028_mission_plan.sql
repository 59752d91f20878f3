-- Mission plan (internal/mission/plan): one row holding the plan document
-- an administrator set (empty: the embedded default plan) and the
-- deployment's first start, from which a plan without a start date counts
-- its days.

CREATE TABLE mission_plan (
	id INTEGER PRIMARY KEY,
	doc TEXT NOT NULL DEFAULT '',
	first_start BIGINT NOT NULL,
	updated_by TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL DEFAULT 0
);
