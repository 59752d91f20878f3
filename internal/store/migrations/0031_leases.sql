-- Leases for background work shared by several replicas (issue 17): one
-- row per job name (scheduler, site probes, search reindex, gc…). holder
-- is the replica holding it ('' once released); token is the fencing
-- token, raised on every acquisition and never lowered (rows are never
-- deleted), so a write fenced with a token fails once anyone else has
-- taken the lease since. Times are microseconds since the epoch from the
-- database's clock on PostgreSQL (see internal/lease).

CREATE TABLE leases (
	name TEXT PRIMARY KEY,
	holder TEXT NOT NULL,
	token BIGINT NOT NULL,
	acquired_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
