-- Partnership agreements (CRADA, user-facility, data-use, NDA, other)
-- between organisations, and the active authorization policy.

CREATE TABLE agreements (
	id TEXT PRIMARY KEY,
	type TEXT NOT NULL,
	title TEXT NOT NULL,
	not_before BIGINT NOT NULL,
	not_after BIGINT NOT NULL,
	compartments TEXT NOT NULL,
	ip_terms TEXT NOT NULL,
	ended_at BIGINT,
	created_by TEXT NOT NULL REFERENCES principals(id),
	created_at BIGINT NOT NULL
);

CREATE TABLE agreement_parties (
	agreement_id TEXT NOT NULL REFERENCES agreements(id),
	org_id TEXT NOT NULL REFERENCES organizations(id),
	PRIMARY KEY (agreement_id, org_id)
);

CREATE INDEX agreement_parties_org ON agreement_parties (org_id);

CREATE TABLE policies (
	version BIGINT PRIMARY KEY,
	source TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
