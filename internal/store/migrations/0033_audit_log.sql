-- The shared audit log (issue 17): every replica appends into one ordered
-- RFC 6962 log sequenced by the database (internal/audit StoreLog).
-- audit_entries holds entry idx's canonical record bytes; audit_tiles the
-- full C2SP hash tiles (256 hashes of 32 bytes), immutable once written;
-- audit_head one row (id 1): the tree size, the latest signed checkpoint
-- (a C2SP signed note covering exactly size entries) and the one before.
-- A batch of appends is one transaction that locks audit_head, inserts
-- entries size..size+k-1 and the tiles they complete, and replaces the
-- checkpoint: entries, tiles and head never disagree after a commit.

CREATE TABLE audit_entries (
	idx BIGINT PRIMARY KEY,
	data BYTEA NOT NULL
);

CREATE TABLE audit_tiles (
	level INTEGER NOT NULL,
	n BIGINT NOT NULL,
	data BYTEA NOT NULL,
	PRIMARY KEY (level, n)
);

CREATE TABLE audit_head (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	size BIGINT NOT NULL,
	checkpoint BYTEA NOT NULL,
	prev BYTEA
);
