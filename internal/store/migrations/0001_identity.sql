-- Identity: organisations, principals, API tokens, projects and members,
-- and the idempotency keys of API mutations.

CREATE TABLE organizations (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL,
	country TEXT NOT NULL,
	kind TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE principals (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	display_name TEXT NOT NULL,
	email TEXT NOT NULL,
	org_id TEXT REFERENCES organizations(id),
	nationality TEXT NOT NULL,
	roles TEXT NOT NULL,
	clearance TEXT NOT NULL,
	oidc_issuer TEXT NOT NULL,
	oidc_subject TEXT NOT NULL,
	disabled BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX principals_oidc ON principals (oidc_issuer, oidc_subject) WHERE oidc_subject <> '';

CREATE TABLE tokens (
	id TEXT PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES principals(id),
	hash BYTEA NOT NULL UNIQUE,
	name TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT,
	revoked_at BIGINT,
	last_used_at BIGINT
);

CREATE INDEX tokens_principal ON tokens (principal_id);

CREATE TABLE projects (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	org_id TEXT REFERENCES organizations(id),
	created_by TEXT NOT NULL REFERENCES principals(id),
	created_at BIGINT NOT NULL
);

CREATE TABLE project_members (
	project_id TEXT NOT NULL REFERENCES projects(id),
	principal_id TEXT NOT NULL REFERENCES principals(id),
	role TEXT NOT NULL,
	added_at BIGINT NOT NULL,
	PRIMARY KEY (project_id, principal_id)
);

CREATE INDEX project_members_principal ON project_members (principal_id);

CREATE TABLE idempotency_keys (
	principal_id TEXT NOT NULL,
	key TEXT NOT NULL,
	method TEXT NOT NULL,
	path TEXT NOT NULL,
	request_hash BYTEA NOT NULL,
	status INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	body BYTEA,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (principal_id, key)
);
