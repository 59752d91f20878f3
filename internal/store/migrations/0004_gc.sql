-- Chunks the garbage collector is deleting right now: a concurrent upload
-- of the same chunk waits until the deletion is over (see catalog.GC).
CREATE TABLE gc_tombstones (
	chunk TEXT PRIMARY KEY,
	at BIGINT NOT NULL
);
