package search

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"sync"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// docCache holds, in memory, what scoring, filtering and faceting need of
// each document, indexed by its sequence number g. A g is never reused and
// a document's indexed content never changes under its g (an update is a
// delete and an insert under a new g), so an entry is valid for every
// snapshot that contains the document: the cache never goes stale, it only
// misses. Entries of deleted documents stay until the index is reopened.
type docCache struct {
	loadMu sync.Mutex
	mu     sync.RWMutex
	// loaded: every document with g <= loaded that existed when it was
	// loaded is present (later snapshots cannot see a g <= loaded that
	// is absent, because g grows with commit order).
	loaded int64
	docs   []docMeta
	// classOf and ownerOf repeat docs[g].class and .owner densely for the
	// readability test, which runs on every posting; classOf is -1 for a g
	// not loaded.
	classOf, ownerOf []int32
	kws              []int32 // keyword ids of all documents, by docMeta.kwOff
	// idBuf holds every cached document's ID, at idAt[g] >> 8 (its
	// length in the low byte), so that a page's ties (ordered by ID) are
	// broken without reading IDs back, and docMeta stays 56 bytes. idBuf
	// is only appended to: a slice of it stays valid without the lock.
	idBuf []byte
	idAt  []int64
	strs  []string
	ids   map[string]int32
	kinds map[ClassID]int32 // class → kind string id
	// pg: the PostgreSQL backend's table, where a document's class is a
	// column and docMeta.doc is g (SQLite: the rowid, class in its top bits).
	pg bool
}

type docMeta struct {
	doc                int64 // rowid in search_docs (SQLite), g (PostgreSQL)
	lens               [nFields]int32
	class              int32
	owner, domain, org int32 // string ids
	kwOff              uint32
	kwN                uint16
	synthetic          bool
	ok                 bool
}

func (dc *docCache) intern(s string) int32 {
	if id, ok := dc.ids[s]; ok {
		return id
	}
	if dc.ids == nil {
		dc.ids = map[string]int32{}
	}
	id := int32(len(dc.strs))
	dc.strs = append(dc.strs, s)
	dc.ids[s] = id
	return id
}

// lookup returns the id of s, or -1 if no cached document has it.
func (dc *docCache) lookup(s string) int32 {
	if id, ok := dc.ids[s]; ok {
		return id
	}
	return -1
}

// ensure loads every document added since the last load, and the
// documents gs (misses from an older snapshot), in tx's snapshot.
func (dc *docCache) ensure(ctx context.Context, tx store.Tx, gs []int64) error {
	var maxG int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(g), 0) FROM search_docs`).Scan(&maxG); err != nil {
		return err
	}
	dc.mu.RLock()
	loaded := dc.loaded
	dc.mu.RUnlock()
	if maxG <= loaded && len(gs) == 0 {
		return nil
	}
	// One loader at a time: concurrent searches on a cold cache wait for
	// one load instead of each reading the table.
	dc.loadMu.Lock()
	defer dc.loadMu.Unlock()
	dc.mu.RLock()
	loaded = dc.loaded
	dc.mu.RUnlock()
	classes, err := listClassesTx(ctx, tx)
	if err != nil {
		return err
	}
	dc.mu.Lock()
	if dc.kinds == nil {
		dc.kinds = map[ClassID]int32{}
	}
	for _, c := range classes {
		dc.kinds[c.ID] = dc.intern(c.Kind)
	}
	dc.mu.Unlock()
	if maxG > loaded {
		// Many documents (a cold cache) are read in table order, a few
		// (added since the last load) through the g index.
		where := `g > ? AND g <= ?`
		if maxG-loaded > 50000 {
			where = `+g > ? AND +g <= ?`
		}
		if err := dc.load(ctx, tx, where, loaded, maxG); err != nil {
			return err
		}
		dc.mu.Lock()
		dc.loaded = max(dc.loaded, maxG)
		dc.mu.Unlock()
	}
	for lo := 0; lo < len(gs); lo += 500 {
		part := gs[lo:min(len(gs), lo+500)]
		args := make([]any, len(part))
		for i, g := range part {
			args[i] = g
		}
		if err := dc.load(ctx, tx, `g IN (`+store.Placeholders(len(args))+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// load adds the documents matching where.
func (dc *docCache) load(ctx context.Context, tx store.Tx, where string, args ...any) error {
	cols := `g, doc, doc >> 32`
	if dc.pg {
		cols = `g, g, class_id`
	}
	rows, err := tx.Query(ctx, `SELECT `+cols+`, id, owner_id, domain, org, keywords, l0, l1, l2, l3, l4, l5, synthetic FROM search_docs WHERE `+where, args...)
	if err != nil {
		return err
	}
	var g, doc, class int64
	var id, owner, domain, org, kws sql.RawBytes
	var lens [nFields]int32
	var synthetic bool
	return rows.Each(func() error {
		if err := rows.Scan(&g, &doc, &class, &id, &owner, &domain, &org, &kws, &lens[0], &lens[1], &lens[2], &lens[3], &lens[4], &lens[5], &synthetic); err != nil {
			return err
		}
		if g <= 0 {
			return nil
		}
		if len(id) > 255 {
			return errors.E(errors.Internal, errors.Msg("a search document's ID is longer than 255 bytes"))
		}
		dc.mu.Lock()
		defer dc.mu.Unlock()
		if n := int(g) + 1 - len(dc.docs); n > 0 {
			n = max(n, len(dc.docs)/4)
			dc.docs = slices.Grow(dc.docs, n)[:len(dc.docs)+n]
			for range n {
				dc.classOf = append(dc.classOf, -1)
				dc.ownerOf = append(dc.ownerOf, -1)
				dc.idAt = append(dc.idAt, 0)
			}
		}
		m := &dc.docs[g]
		if m.ok {
			return nil
		}
		*m = docMeta{doc: doc, lens: lens, class: int32(class), owner: dc.internBytes(owner),
			domain: dc.internBytes(domain), org: dc.internBytes(org), kwOff: uint32(len(dc.kws)), synthetic: synthetic, ok: true}
		dc.idAt[g] = int64(len(dc.idBuf))<<8 | int64(len(id))
		dc.idBuf = append(dc.idBuf, id...)
		for k := range bytes.SplitSeq(kws, []byte(listSep)) {
			if len(k) > 0 {
				dc.kws = append(dc.kws, dc.internBytes(k))
				m.kwN++
			}
		}
		dc.classOf[g], dc.ownerOf[g] = m.class, m.owner
		return nil
	})
}

func (dc *docCache) internBytes(b []byte) int32 {
	if id, ok := dc.ids[string(b)]; ok {
		return id
	}
	return dc.intern(string(b))
}

func listClassesTx(ctx context.Context, tx store.Tx) ([]Class, error) {
	rows, err := tx.Query(ctx, `SELECT id, kind, label, project FROM search_classes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var out []Class
	err = rows.Each(func() error {
		var c Class
		if err := rows.Scan(&c.ID, &c.Kind, &c.Label, &c.Project); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// idOf returns the ID of the cached document g. The caller holds mu (the
// slice stays valid after it is released: idBuf is only appended to).
func (dc *docCache) idOf(g int64) []byte {
	at := dc.idAt[g]
	return dc.idBuf[at>>8 : at>>8+at&0xff]
}
