-- Web console sessions (issue 16). The cookie holds a random 256-bit ID;
-- the row is keyed by its SHA-256, so a copy of the database does not
-- hand out sessions. kind 'session' is a signed-in browser; kind 'once'
-- is a one-time sign-in code (genesis up's link for the first
-- administrator), consumed when used. csrf is the session's form token.

CREATE TABLE console_sessions (
	id_hash TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	principal_id TEXT NOT NULL REFERENCES principals(id),
	csrf TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
