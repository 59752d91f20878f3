package search

// DropBlobCache empties a PostgreSQL index's postings cache (benchmarks
// time cold queries with it); other indexes have none.
func DropBlobCache(ix Index) {
	if pg, ok := ix.(*pgIndex); ok {
		c := &pg.blobs
		c.mu.Lock()
		defer c.mu.Unlock()
		c.byVer, c.bytes = nil, 0
		c.lru.Init()
	}
}
