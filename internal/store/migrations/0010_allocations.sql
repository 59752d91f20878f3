-- Compute allocations: node-hours and GPU-hours a project may use at a site.
CREATE TABLE allocations (
	project_id TEXT NOT NULL REFERENCES projects(id),
	site TEXT NOT NULL,
	node_hours DOUBLE PRECISION NOT NULL,
	gpu_hours DOUBLE PRECISION NOT NULL,
	updated_by TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (project_id, site)
);
