-- Research agents (internal/agent): runs, their hypotheses and campaign
-- drafts. What a run produced lives in a catalog asset (run.json, a draft's
-- campaign.yaml), labelled and with lineage; these rows only point at it,
-- so reading one is reading its asset (hidden = missing).

CREATE TABLE agent_runs (
	id TEXT PRIMARY KEY,
	asset_id TEXT NOT NULL,
	version BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE agent_hypotheses (
	id TEXT PRIMARY KEY,
	run_id TEXT NOT NULL REFERENCES agent_runs(id),
	ordinal INTEGER NOT NULL
);
CREATE INDEX agent_hypotheses_run ON agent_hypotheses (run_id);

CREATE TABLE agent_drafts (
	id TEXT PRIMARY KEY,
	hypothesis_id TEXT NOT NULL REFERENCES agent_hypotheses(id),
	asset_id TEXT NOT NULL,
	version BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	approved_by TEXT NOT NULL DEFAULT '',
	approved_at BIGINT NOT NULL DEFAULT 0,
	campaign_id TEXT NOT NULL DEFAULT ''
);
