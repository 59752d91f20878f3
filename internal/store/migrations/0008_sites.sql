-- Compute sites of the federation: kind, endpoint and (encrypted)
-- credentials, accreditation, capacity, power, status and heartbeats.

CREATE TABLE sites (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	credentials BYTEA,
	accreditation TEXT NOT NULL,
	operator_org TEXT NOT NULL,
	nationalities TEXT NOT NULL,
	capacity TEXT NOT NULL,
	power_cap_kw DOUBLE PRECISION NOT NULL,
	power_draw_kw DOUBLE PRECISION NOT NULL,
	status TEXT NOT NULL,
	status_reason TEXT NOT NULL,
	heartbeat_seconds BIGINT NOT NULL,
	last_heartbeat BIGINT,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
