package search

import (
	"context"
	"sync"

	"github.com/genesis-science/genesis/internal/store"
)

// docCache holds, in memory, what scoring, filtering and faceting need of
// each document, indexed by its sequence number g. A g is never reused and
// a document's indexed content never changes under its g (an update is a
// delete and an insert under a new g), so an entry is valid for every
// snapshot that contains the document: the cache never goes stale, it only
// misses. Entries of deleted documents stay until the index is reopened.
type docCache struct {
	mu sync.RWMutex
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
	strs             []string
	ids              map[string]int32
	kinds            map[ClassID]int32 // class → kind string id
}

type docMeta struct {
	doc                int64 // rowid in search_docs
	lens               [nFields]int32
	class              int32
	owner, domain, org int32 // string ids
	kwOff              uint32
	kwN                uint16
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

const metaCols = `g, doc, owner_id, domain, org, keywords, l0, l1, l2, l3, l4, l5`

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
	type row struct {
		g, doc             int64
		owner, domain, org string
		kws                string
		lens               [nFields]int32
	}
	var rows []row
	scan := func(r *store.Rows) error {
		return r.Each(func() error {
			var x row
			if err := r.Scan(&x.g, &x.doc, &x.owner, &x.domain, &x.org, &x.kws, &x.lens[0], &x.lens[1], &x.lens[2], &x.lens[3], &x.lens[4], &x.lens[5]); err != nil {
				return err
			}
			rows = append(rows, x)
			return nil
		})
	}
	if maxG > loaded {
		r, err := tx.Query(ctx, `SELECT `+metaCols+` FROM search_docs WHERE g > ? AND g <= ?`, loaded, maxG)
		if err != nil {
			return err
		}
		if err := scan(r); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(gs); lo += 500 {
		part := gs[lo:min(len(gs), lo+500)]
		args := make([]any, len(part))
		for i, g := range part {
			args[i] = g
		}
		r, err := tx.Query(ctx, `SELECT `+metaCols+` FROM search_docs WHERE g IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		if err := scan(r); err != nil {
			return err
		}
	}
	needClasses := false
	dc.mu.RLock()
	for _, x := range rows {
		if _, ok := dc.kinds[ClassID(x.doc>>classShift)]; !ok {
			needClasses = true
			break
		}
	}
	dc.mu.RUnlock()
	var classes []Class
	if needClasses {
		var err error
		if classes, err = listClassesTx(ctx, tx); err != nil {
			return err
		}
	}

	dc.mu.Lock()
	defer dc.mu.Unlock()
	if dc.kinds == nil {
		dc.kinds = map[ClassID]int32{}
	}
	for _, c := range classes {
		dc.kinds[c.ID] = dc.intern(c.Kind)
	}
	for _, x := range rows {
		if x.g <= 0 {
			continue
		}
		for int64(len(dc.docs)) <= x.g {
			dc.docs = append(dc.docs, docMeta{})
			dc.classOf = append(dc.classOf, -1)
			dc.ownerOf = append(dc.ownerOf, -1)
		}
		m := &dc.docs[x.g]
		if m.ok {
			continue
		}
		*m = docMeta{doc: x.doc, lens: x.lens, class: int32(x.doc >> classShift), owner: dc.intern(x.owner),
			domain: dc.intern(x.domain), org: dc.intern(x.org), kwOff: uint32(len(dc.kws)), ok: true}
		for _, kw := range splitList(x.kws) {
			dc.kws = append(dc.kws, dc.intern(kw))
			m.kwN++
		}
		dc.classOf[x.g], dc.ownerOf[x.g] = m.class, m.owner
	}
	dc.loaded = max(dc.loaded, maxG)
	return nil
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
