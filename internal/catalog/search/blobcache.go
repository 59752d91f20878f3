package search

import (
	"container/list"
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// blobCache keeps PostgreSQL postings blobs in memory, keyed by their row's
// version (migration 0036: a number from one sequence, taken by every
// insert and, through a trigger, by every update of a row, so a version
// names one content of one row, forever, on every replica). A query first
// reads the versions of its term's rows — a few numbers from the primary
// key's range and the rows' heads, not the TOASTed blobs — and then the
// blobs of the versions it does not hold. A blob is served only while its
// row still has the version it was read with, so the cache never serves a
// stale blob; it only misses. Least recently used blobs are dropped above
// maxBytes.
//
// Without it a common word at 10^6 documents reads megabytes from
// PostgreSQL per query (detoasted, copied through the protocol and into Go):
// see the figures in bench_test.go.
type blobCache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	byVer    map[int64]*list.Element // of *blobEntry
	lru      list.List               // front: most recently used
}

type blobEntry struct {
	version int64
	data    []byte
}

// blobCacheBytes bounds each PostgreSQL index's postings cache: at 10^6
// documents every postings blob together is ~440 MB, and the blobs of the
// few hundred most common words and prefixes, which are the ones worth
// keeping, ~100 MB.
const blobCacheBytes = 256 << 20

// blobOverhead approximates an entry's memory beyond its blob (map entry,
// list element, entry).
const blobOverhead = 128

func (c *blobCache) get(version int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byVer[version]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*blobEntry).data, true
}

// put adds a blob (which the caller no longer changes), dropping the least
// recently used ones to stay under maxBytes.
func (c *blobCache) put(version int64, data []byte) {
	size := int64(len(data)) + blobOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	max := c.maxBytes
	if max == 0 {
		max = blobCacheBytes
	}
	if size > max/4 {
		return
	}
	if _, ok := c.byVer[version]; ok {
		return
	}
	if c.byVer == nil {
		c.byVer = map[int64]*list.Element{}
	}
	c.byVer[version] = c.lru.PushFront(&blobEntry{version: version, data: data})
	c.bytes += size
	for c.bytes > max {
		e := c.lru.Back()
		be := e.Value.(*blobEntry)
		c.lru.Remove(e)
		delete(c.byVer, be.version)
		c.bytes -= int64(len(be.data)) + blobOverhead
	}
}

// termPostings is termPostings through the cache: the same blobs, by
// block, as one statement reading them would return.
func (c *blobCache) termPostings(ctx context.Context, tx store.Tx, t term) (map[int64][][]byte, error) {
	w := t.words[0]
	where, args := `term = ?`, []any{w}
	if t.prefix {
		lo, hi := prefixRange(w)
		where, args = `term >= ? AND term < ?`, []any{lo, hi}
	}
	type ref struct{ block, version int64 }
	// Both statements run in one View, one snapshot (store.DB.View), so
	// the second finds every version the first listed; that it did is
	// checked all the same, as a blob of another version must never be
	// used.
	rows, err := tx.Query(ctx, `SELECT term, block, version FROM search_postings WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	var refs []ref
	err = rows.Each(func() error {
		var tok string
		var r ref
		if err := rows.Scan(&tok, &r.block, &r.version); err != nil {
			return err
		}
		if t.prefix && strings.HasPrefix(tok, w) || !t.prefix && tok == w {
			refs = append(refs, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[int64][][]byte{}
	blockOf := map[int64]int64{}
	var miss []any
	for _, r := range refs {
		if data, ok := c.get(r.version); ok {
			out[r.block] = append(out[r.block], data)
			continue
		}
		blockOf[r.version] = r.block
		miss = append(miss, r.version)
	}
	found := 0
	// The missing blobs by version, a few thousand per statement (each
	// walks the term's rows), or, when most are missing (a cold cache),
	// every row of the term in one statement, using the missing ones.
	const perStmt = 4000
	for lo := 0; lo < len(miss); lo += perStmt {
		part := miss[lo:min(len(miss), lo+perStmt)]
		q, qargs := `SELECT version, data FROM search_postings WHERE `+where+` AND version IN (`+store.Placeholders(len(part))+`)`,
			append(append([]any(nil), args...), part...)
		if 2*len(miss) > len(refs) {
			q, qargs, lo = `SELECT version, data FROM search_postings WHERE `+where, args, len(miss)
		}
		rows, err := tx.Query(ctx, q, qargs...)
		if err != nil {
			return nil, err
		}
		err = rows.Each(func() error {
			var v int64
			var raw sql.RawBytes
			if err := rows.Scan(&v, &raw); err != nil {
				return err
			}
			b, ok := blockOf[v]
			if !ok {
				return nil
			}
			delete(blockOf, v)
			found++
			data := append([]byte(nil), raw...)
			c.put(v, data)
			out[b] = append(out[b], data)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if found != len(miss) {
		return nil, errors.E(errors.Internal, errors.Msg("search postings changed within one snapshot"))
	}
	return out, nil
}
