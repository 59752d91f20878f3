package search

import (
	"context"
	"database/sql"
	"encoding/binary"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// Postings (migration 0013). FTS5 answers a common word in milliseconds,
// but everything this index must do after matching — the visibility test,
// BM25 over readable statistics, the total and the facets — then costs
// microseconds per matching row through the SQL engine, and a query for a
// common word matches a hundred thousand rows. So the SQLite backend keeps
// its own postings: for each folded token and each block of 65,536
// consecutive document sequence numbers (g), one blob listing the block's
// documents that contain the token and how often, per ranked field. A query
// reads a few blobs per term and does the rest in Go against an in-memory
// copy of each document's facet values and field lengths (docCache). FTS5
// still answers phrase queries (and everything, on a database indexed
// before 0013, until every document has a g).
//
// A posting is: uint16 little-endian g & 0xFFFF, one byte with bit c set
// when field c contains the token, then for each set bit the count as an
// unsigned varint. A blob's postings are in increasing g: g only grows, so
// new documents are appended, and removing a document rewrites its blobs.

const blockShift = 16

type postingKey struct {
	term  string
	block int64
}

// termFreqs counts each token of the folded fields, per field.
func termFreqs(f *[nFields]string) map[string]*[nFields]int32 {
	out := map[string]*[nFields]int32{}
	for c, s := range f {
		for s != "" {
			tok := s
			if i := strings.IndexByte(s, ' '); i >= 0 {
				tok, s = s[:i], s[i+1:]
			} else {
				s = ""
			}
			if tok == "" {
				continue
			}
			tf := out[tok]
			if tf == nil {
				tf = new([nFields]int32)
				out[tok] = tf
			}
			tf[c]++
		}
	}
	return out
}

func appendPosting(b []byte, g int64, tf *[nFields]int32) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(g))
	var mask byte
	for c, n := range tf {
		if n > 0 {
			mask |= 1 << c
		}
	}
	b = append(b, mask)
	for _, n := range tf {
		if n > 0 {
			b = binary.AppendUvarint(b, uint64(n))
		}
	}
	return b
}

// nextPosting decodes the posting at the start of b: its offset in the
// block, its counts, and the rest of b. ok is false on malformed data.
func nextPosting(b []byte, tf *[nFields]int32) (off uint32, rest []byte, ok bool) {
	if len(b) < 3 {
		return 0, nil, false
	}
	off = uint32(binary.LittleEndian.Uint16(b))
	mask := b[2]
	if mask>>nFields != 0 {
		return 0, nil, false
	}
	b = b[3:]
	for c := range tf {
		if mask&(1<<c) == 0 {
			tf[c] = 0
			continue
		}
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, nil, false
		}
		tf[c] = int32(v)
		b = b[n:]
	}
	return off, b, true
}

// postingWriter collects postings of new documents, in increasing g.
type postingWriter struct {
	buf map[postingKey][]byte
}

func (w *postingWriter) add(g int64, f *[nFields]string) {
	if w.buf == nil {
		w.buf = map[postingKey][]byte{}
	}
	for term, tf := range termFreqs(f) {
		k := postingKey{term, g >> blockShift}
		w.buf[k] = appendPosting(w.buf[k], g, tf)
	}
}

// flush appends the collected postings to their blobs.
func (w *postingWriter) flush(ctx context.Context, tx store.Tx) error {
	keys := make([]postingKey, 0, len(w.buf))
	for k := range w.buf {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].term < keys[j].term || keys[i].term == keys[j].term && keys[i].block < keys[j].block
	})
	const rowsPer = 300
	concat := `CAST(search_postings.data || excluded.data AS BLOB)`
	if tx.Dialect() == store.Postgres {
		concat = `search_postings.data || excluded.data`
	}
	for lo := 0; lo < len(keys); lo += rowsPer {
		hi := min(len(keys), lo+rowsPer)
		args := make([]any, 0, 3*(hi-lo))
		for _, k := range keys[lo:hi] {
			args = append(args, k.term, k.block, w.buf[k])
		}
		if _, err := tx.Exec(ctx, `INSERT INTO search_postings (term, block, data) VALUES `+store.RowsOf(hi-lo, 3)+`
			ON CONFLICT (term, block) DO UPDATE SET data = `+concat, args...); err != nil {
			return err
		}
	}
	w.buf = nil
	return nil
}

// removePostings deletes documents (g and folded fields) from their blobs.
func removePostings(ctx context.Context, tx store.Tx, gs []int64, fields [][nFields]string) error {
	drop := map[postingKey][]uint32{}
	for i, g := range gs {
		for term := range termFreqs(&fields[i]) {
			k := postingKey{term, g >> blockShift}
			drop[k] = append(drop[k], uint32(g&(1<<blockShift-1)))
		}
	}
	for k, offs := range drop {
		var data []byte
		err := tx.QueryRow(ctx, `SELECT data FROM search_postings WHERE term = ? AND block = ?`, k.term, k.block).Scan(&data)
		if errors.Is(errors.NotExist, err) {
			continue
		}
		if err != nil {
			return err
		}
		slices.Sort(offs)
		out, ok := withoutOffsets(data, offs)
		if !ok {
			return errors.E(errors.Internal, errors.Msg("corrupt search postings"))
		}
		if len(out) == 0 {
			_, err = tx.Exec(ctx, `DELETE FROM search_postings WHERE term = ? AND block = ?`, k.term, k.block)
		} else {
			_, err = tx.Exec(ctx, `UPDATE search_postings SET data = ? WHERE term = ? AND block = ?`, out, k.term, k.block)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// withoutOffsets returns data without the postings at offs (sorted),
// copying the postings between them in bulk.
func withoutOffsets(data []byte, offs []uint32) ([]byte, bool) {
	out := make([]byte, 0, len(data))
	keep := 0 // start of the run of postings kept but not yet copied
	p := 0
	for p < len(data) && len(offs) > 0 {
		n, ok := postingLen(data[p:])
		if !ok {
			return nil, false
		}
		off := uint32(binary.LittleEndian.Uint16(data[p:]))
		for len(offs) > 0 && offs[0] < off {
			offs = offs[1:]
		}
		if len(offs) > 0 && offs[0] == off {
			out = append(out, data[keep:p]...)
			keep = p + n
			offs = offs[1:]
		}
		p += n
	}
	return append(out, data[keep:]...), true
}

// postingLen is the length of the posting at the start of b.
func postingLen(b []byte) (int, bool) {
	if len(b) < 3 || b[2]>>nFields != 0 {
		return 0, false
	}
	n := 3
	for range bits.OnesCount8(b[2]) {
		for {
			if n >= len(b) {
				return 0, false
			}
			n++
			if b[n-1] < 0x80 {
				break
			}
		}
	}
	return n, true
}

// allocG reserves n sequence numbers and returns the first. The UPDATE
// holds the counter's row until tx ends, so a later transaction takes
// larger numbers only after tx has committed: g grows in commit order (on
// PostgreSQL across replicas too; SQLite has one writer), which docCache
// relies on.
func allocG(ctx context.Context, tx store.Tx, n int) (int64, error) {
	var next int64
	err := tx.QueryRow(ctx, `UPDATE search_state SET value = value + ? WHERE name = 'next_g' RETURNING value`, int64(n)).Scan(&next)
	return next - int64(n), err
}

// postingsComplete reports whether every document is in the postings.
func postingsComplete(ctx context.Context, tx store.Tx) (bool, error) {
	var missing bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM search_docs WHERE g IS NULL)`).Scan(&missing)
	return !missing, err
}

// termPostings reads the blobs of t (for a prefix, of every token it
// prefixes), by block.
func termPostings(ctx context.Context, tx store.Tx, t term) (map[int64][][]byte, error) {
	w := t.words[0]
	var rows *store.Rows
	var err error
	if t.prefix {
		lo, hi := prefixRange(w)
		rows, err = tx.Query(ctx, `SELECT term, block, data FROM search_postings WHERE term >= ? AND term < ?`, lo, hi)
	} else {
		rows, err = tx.Query(ctx, `SELECT term, block, data FROM search_postings WHERE term = ?`, w)
	}
	if err != nil {
		return nil, err
	}
	out := map[int64][][]byte{}
	err = rows.Each(func() error {
		var tok string
		var block int64
		var data sql.RawBytes
		if err := rows.Scan(&tok, &block, &data); err != nil {
			return err
		}
		if t.prefix && !strings.HasPrefix(tok, w) || !t.prefix && tok != w {
			return nil
		}
		out[block] = append(out[block], append([]byte(nil), data...))
		return nil
	})
	return out, err
}

// Reindexer is implemented by indexes that can bring documents indexed by
// an older version up to date (SQLite: postings for documents indexed
// before migration 0013, which are searched through FTS5 until then) and
// then warm their caches (SQLite: the document cache, which a first search
// would otherwise load — seconds at 10^6 documents). Reindex works in short
// transactions and may run while the index serves, e.g. in the background
// at start-up.
type Reindexer interface {
	Reindex(ctx context.Context) error
}

var _ Reindexer = (*sqliteIndex)(nil)

func (ix *sqliteIndex) Reindex(ctx context.Context) error {
	const op errors.Op = "search.Reindex"
	for {
		n := 0
		err := ix.db.Update(ctx, func(tx store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT doc, f_name, f_title, f_keywords, f_creators, f_variables, f_description FROM search_docs WHERE g IS NULL ORDER BY doc LIMIT 2000`)
			if err != nil {
				return err
			}
			var docs []int64
			var fields [][nFields]string
			err = rows.Each(func() error {
				var doc int64
				var f [nFields]string
				if err := rows.Scan(&doc, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]); err != nil {
					return err
				}
				docs = append(docs, doc)
				fields = append(fields, f)
				return nil
			})
			if err != nil || len(docs) == 0 {
				return err
			}
			n = len(docs)
			first, err := allocG(ctx, tx, n)
			if err != nil {
				return err
			}
			var pw postingWriter
			for i, doc := range docs {
				g := first + int64(i)
				pw.add(g, &fields[i])
				if _, err := tx.Exec(ctx, `UPDATE search_docs SET g = ? WHERE doc = ?`, g, doc); err != nil {
					return err
				}
			}
			return pw.flush(ctx, tx)
		})
		if err != nil {
			return errors.E(op, err)
		}
		if n == 0 {
			break
		}
	}
	if err := ix.db.View(ctx, func(tx store.Tx) error { return ix.cache.ensure(ctx, tx, nil) }); err != nil {
		return errors.E(op, err)
	}
	return nil
}

// Warmer is implemented by indexes with a per-process cache that a first
// search would otherwise load (seconds at 10^6 documents). Every replica
// warms its own, while Reindex, which writes, runs on one at a time.
type Warmer interface {
	Warm(ctx context.Context) error
}

var (
	_ Warmer = (*sqliteIndex)(nil)
	_ Warmer = (*pgIndex)(nil)
)

// Warm loads the document cache.
func (ix *sqliteIndex) Warm(ctx context.Context) error { return warm(ctx, ix.db, &ix.cache) }

// Warm loads the document cache.
func (ix *pgIndex) Warm(ctx context.Context) error { return warm(ctx, ix.db, &ix.cache) }

func warm(ctx context.Context, db store.DB, dc *docCache) error {
	if err := db.View(ctx, func(tx store.Tx) error { return dc.ensure(ctx, tx, nil) }); err != nil {
		return errors.E(errors.Op("search.Warm"), err)
	}
	return nil
}
