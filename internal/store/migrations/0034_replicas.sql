-- Several replicas on one store (issue 17).
--
-- console_oidc_flows: console OIDC sign-in attempts in progress, so that
-- the provider's redirect back may land on any replica. Keyed by the
-- SHA-256 of the state; binding_hash is the SHA-256 of the browser's
-- binding cookie. A row is deleted when used (single use), expired rows
-- go as new ones come, and the table is bounded (the oldest gives way).
--
-- deployment_keys: the SHA-256 fingerprint of each secret every replica
-- must share (the key that encrypts site credentials at rest), recorded
-- by the first replica to start; a replica whose key differs refuses to
-- start rather than write credentials the others cannot read.

CREATE TABLE console_oidc_flows (
	state_hash TEXT PRIMARY KEY,
	nonce TEXT NOT NULL,
	pkce TEXT NOT NULL,
	binding_hash TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE INDEX console_oidc_flows_expires ON console_oidc_flows (expires_at);

CREATE TABLE deployment_keys (
	name TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
