package audit

// SetBatchHook makes every batch transaction of l call f after inserting
// its entries; an error from f rolls the batch back (a crash before
// commit).
func SetBatchHook(l *StoreLog, f func(first uint64, n int) error) { l.batchHook = f }

// CommitBatch appends entries to l in one batch transaction, as the
// writer goroutine does with the appends it gathered.
func CommitBatch(l *StoreLog, entries [][]byte) (uint64, error) {
	return l.commit(entries, anyPosition)
}

// NewTileClient returns a tlog.TileReader that reads C2SP tile paths
// with read.
func NewTileClient(read func(path string) ([]byte, error)) tileClient {
	return tileClient{read: read}
}
