-- Campaigns: closed loops of proposed experiments, run by the campaign
-- runner under a lease per campaign, and their experiments.

CREATE TABLE campaigns (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	title TEXT NOT NULL,
	owner_id TEXT NOT NULL REFERENCES principals(id),
	project_id TEXT,
	label TEXT NOT NULL,
	spec TEXT NOT NULL,
	state TEXT NOT NULL,
	reason TEXT NOT NULL,
	-- the optimizer's state (bo.State JSON): observations fed so far and
	-- the suggestions still pending
	optimizer TEXT NOT NULL,
	-- instruments the executor may use (JSON list of IDs) and the prior
	-- data versions read (JSON list of NAME@VERSION as IDs)
	instruments TEXT NOT NULL,
	priors TEXT NOT NULL,
	-- dispatches so far: the attained service of the fair-share policy
	dispatches BIGINT NOT NULL,
	-- experiments with seq < fed are final and fed to the optimizer
	fed INTEGER NOT NULL,
	next_seq INTEGER NOT NULL,
	batches INTEGER NOT NULL,
	committed_batch INTEGER NOT NULL,
	-- why the campaign is ending (target reached, budget spent…) while its
	-- last experiments finish; empty until then
	finishing TEXT NOT NULL,
	-- 1 once an ended campaign's last results and surrogate are committed
	wrapped INTEGER NOT NULL,
	dataset TEXT NOT NULL,
	dataset_version BIGINT NOT NULL,
	model TEXT NOT NULL,
	lease_owner TEXT NOT NULL,
	lease_until BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	started_at BIGINT,
	ended_at BIGINT
);

CREATE INDEX campaigns_name ON campaigns (name);
CREATE INDEX campaigns_state ON campaigns (state);

CREATE TABLE campaign_experiments (
	id TEXT PRIMARY KEY,
	campaign_id TEXT NOT NULL REFERENCES campaigns(id),
	seq INTEGER NOT NULL,
	batch INTEGER NOT NULL,
	attempt INTEGER NOT NULL,
	failures INTEGER NOT NULL,
	params TEXT NOT NULL,
	point TEXT NOT NULL,
	state TEXT NOT NULL,
	instrument TEXT,
	job TEXT NOT NULL,
	dispatch_key TEXT NOT NULL,
	vals TEXT NOT NULL,
	reason TEXT NOT NULL,
	proposed_at BIGINT NOT NULL,
	dispatched_at BIGINT,
	ended_at BIGINT,
	UNIQUE (campaign_id, seq)
);

CREATE INDEX campaign_experiments_state ON campaign_experiments (state, campaign_id);

-- The reservation: an instrument drives one experiment at a time, whatever
-- campaign and whatever runner replica dispatched it.
CREATE UNIQUE INDEX campaign_experiments_reserved ON campaign_experiments (instrument) WHERE state IN ('dispatched', 'running');
