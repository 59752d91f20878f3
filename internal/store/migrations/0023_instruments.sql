-- Lab instruments, their workcells, and hazardous-action approvals.
-- An instrument's description (actions, parameters, bounds, outputs,
-- consumables) is what its driver reported, as JSON; its operator's
-- narrower safety bounds are kept beside it. Live status is what the
-- poller last saw; the operator's hold (offline, maintenance) and the
-- emergency stop are kept apart so that a poll can never clear them.

CREATE TABLE workcells (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	lab TEXT NOT NULL,
	description TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE instruments (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	settings TEXT NOT NULL,
	lab TEXT NOT NULL,
	location TEXT NOT NULL,
	owner_org TEXT NOT NULL,
	nationalities TEXT NOT NULL,
	workcell TEXT NOT NULL,
	accreditation TEXT NOT NULL,
	model TEXT NOT NULL,
	info TEXT NOT NULL,
	bounds TEXT NOT NULL,
	status TEXT NOT NULL,
	status_reason TEXT NOT NULL,
	consumables TEXT NOT NULL,
	running BIGINT NOT NULL,
	held TEXT NOT NULL,
	held_reason TEXT NOT NULL,
	estopped_at BIGINT,
	estop_reason TEXT NOT NULL,
	locked_by TEXT NOT NULL,
	checked_at BIGINT,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE INDEX instruments_workcell ON instruments (workcell);

CREATE TABLE instrument_approvals (
	id TEXT PRIMARY KEY,
	instrument TEXT NOT NULL,
	request_id TEXT NOT NULL,
	action TEXT NOT NULL,
	params TEXT NOT NULL,
	campaign TEXT NOT NULL,
	label TEXT NOT NULL,
	state TEXT NOT NULL,
	requested_at BIGINT NOT NULL,
	decided_by TEXT NOT NULL,
	decided_at BIGINT,
	reason TEXT NOT NULL,
	UNIQUE (instrument, request_id)
);

CREATE INDEX instrument_approvals_state ON instrument_approvals (state, requested_at);
