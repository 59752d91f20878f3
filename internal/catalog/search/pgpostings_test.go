package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// pgDiffCorpus writes the same random documents, updates, relabels and
// deletes to every index of ixs (each over its own database of dbs), with
// searches in between so that document caches are loaded before changes.
func pgDiffCorpus(t *testing.T, rng *rand.Rand, vocab []string, dbs []store.DB, ixs []Index) {
	t.Helper()
	ctx := context.Background()
	words := func(n int) string {
		var w []string
		for range n {
			w = append(w, vocab[rng.IntN(len(vocab))])
		}
		return strings.Join(w, " ")
	}
	var docs []Doc
	for i := range 250 {
		d := Doc{ID: fmt.Sprintf("d%03d", i), Kind: []string{"dataset", "model"}[rng.IntN(2)], Name: words(1),
			Title: words(1 + rng.IntN(4)), Description: words(rng.IntN(20)), Domain: []string{"", "fusion", "materials"}[rng.IntN(3)],
			Org: []string{"", "ORNL", "LLNL"}[rng.IntN(3)], Project: []string{"", "p1"}[rng.IntN(2)], Owner: []string{"u1", "u2"}[rng.IntN(2)],
			Label: []string{"OPEN", "PROPRIETARY", "NATIONAL-SECURITY"}[rng.IntN(3)], Updated: time.Unix(int64(rng.IntN(1000)), 0).UTC(),
			Synthetic: rng.IntN(4) == 0}
		for range rng.IntN(3) {
			d.Keywords = append(d.Keywords, vocab[rng.IntN(len(vocab))])
		}
		if rng.IntN(2) == 0 {
			d.Creators = []string{words(2)}
		}
		if rng.IntN(3) == 0 {
			d.Variables = []Variable{{Name: words(1), Unit: "K"}}
		}
		docs = append(docs, d)
	}
	each := func(fn func(db store.DB, ix Index) error) {
		t.Helper()
		for i := range dbs {
			if err := fn(dbs[i], ixs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	each(func(db store.DB, ix Index) error { return Put(ctx, db, ix, docs...) })
	for range 3 {
		each(func(db store.DB, ix Index) error {
			_, err := ix.Search(ctx, Query{Text: vocab[0]}, allOf(t, ix))
			return err
		})
		for range 15 {
			d := docs[rng.IntN(len(docs))]
			if rng.IntN(3) == 0 {
				each(func(db store.DB, ix Index) error { return Remove(ctx, db, ix, d.ID) })
				continue
			}
			d.Title, d.Label = words(1+rng.IntN(3)), []string{"OPEN", "PROPRIETARY"}[rng.IntN(2)]
			each(func(db store.DB, ix Index) error { return Put(ctx, db, ix, d) })
		}
	}
}

// classMap maps each class of from to the class of to with the same kind,
// label and project.
func classMap(t *testing.T, from, to Index) map[ClassID]ClassID {
	t.Helper()
	a, err := from.Classes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := to.Classes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[Class]ClassID{}
	for _, c := range b {
		byKey[Class{Kind: c.Kind, Label: c.Label, Project: c.Project}] = c.ID
	}
	out := map[ClassID]ClassID{}
	for _, c := range a {
		id, ok := byKey[Class{Kind: c.Kind, Label: c.Label, Project: c.Project}]
		if !ok {
			t.Fatalf("class %+v only in one index", c)
		}
		out[c.ID] = id
	}
	return out
}

// TestPostgresEqualsSQLite is the differential test of the two backends'
// text search over postings: one random history of writes, relabels and
// deletes in both, then random word and prefix queries (with filters,
// pages) for random principals (readable and owner-readable classes,
// matched across the databases by kind, label and project) must give the
// same hits in the same order with the same scores, snippets, totals,
// facets and cursors. Both rank by BM25 over the readable corpus in Go.
func TestPostgresEqualsSQLite(t *testing.T) {
	vocab := []string{"reactor", "reactors", "plasma", "neutron", "alloy", "qubit", "wafer", "fusion", "fuel", "crystal", "sensor", "catalyst"}
	rng := rand.New(rand.NewPCG(35, 1))
	sdb := storetest.Migrated(t, storetest.SQLite)
	pdb := storetest.Migrated(t, storetest.Postgres)
	six, err := New(sdb)
	if err != nil {
		t.Fatal(err)
	}
	pix, err := New(pdb)
	if err != nil {
		t.Fatal(err)
	}
	pgDiffCorpus(t, rng, vocab, []store.DB{sdb, pdb}, []Index{six, pix})
	compareBackends(t, rng, vocab, six, pix, 150)
}

// compareBackends runs n random queries against want and got.
func compareBackends(t *testing.T, rng *rand.Rand, vocab []string, want, got Index, n int) {
	t.Helper()
	ctx := context.Background()
	cm := classMap(t, want, got)
	classes, err := want.Classes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var vw, vg Visibility
		vw.Owner = []string{"", "u1", "u2"}[rng.IntN(3)]
		vg.Owner = vw.Owner
		for _, c := range classes {
			switch rng.IntN(3) {
			case 0:
				vw.ReadableClasses = append(vw.ReadableClasses, c.ID)
				vg.ReadableClasses = append(vg.ReadableClasses, cm[c.ID])
			case 1:
				vw.OwnerReadableClasses = append(vw.OwnerReadableClasses, c.ID)
				vg.OwnerReadableClasses = append(vg.OwnerReadableClasses, cm[c.ID])
			}
		}
		var parts []string
		for range 1 + rng.IntN(3) {
			w := vocab[rng.IntN(len(vocab))]
			if rng.IntN(3) == 0 {
				w = w[:2+rng.IntN(3)] + "*"
			}
			parts = append(parts, w)
		}
		q := Query{Text: strings.Join(parts, " "), Limit: 1 + rng.IntN(10)}
		if rng.IntN(4) == 0 {
			q.Domain = "fusion"
		}
		if rng.IntN(4) == 0 {
			q.Kind = "model"
		}
		if rng.IntN(5) == 0 {
			q.Keywords = []string{vocab[rng.IntN(len(vocab))]}
		}
		if rng.IntN(5) == 0 {
			q.Synthetic = &[]bool{false, true}[rng.IntN(2)]
		}
		for pages := 0; pages < 4; pages++ {
			a, err := want.Search(ctx, q, vw)
			if err != nil {
				t.Fatal(err)
			}
			b, err := got.Search(ctx, q, vg)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(a, b); d != "" {
				t.Fatalf("query %d %+v: SQLite (-) vs PostgreSQL (+):\n%s", i, q, d)
			}
			if a.Next == "" {
				break
			}
			q.Cursor = a.Next
		}
	}
}

// TestPostgresReindex starts from an index as migration 0035 leaves one
// built before it (no g, lengths, postings or statistics), writes and
// deletes some documents (new ones get postings, old ones have none to
// remove), checks that word queries meanwhile find what SQLite finds
// (through the tsvector index: same hits, totals and facets, another
// ranking), then reindexes and runs the differential test against SQLite.
func TestPostgresReindex(t *testing.T) {
	ctx := context.Background()
	vocab := []string{"reactor", "plasma", "neutron", "alloy", "qubit", "wafer", "fusion", "fuel"}
	rng := rand.New(rand.NewPCG(35, 2))
	sdb := storetest.Migrated(t, storetest.SQLite)
	pdb := storetest.Migrated(t, storetest.Postgres)
	six, _ := New(sdb)
	pix, _ := New(pdb)
	dbs, ixs := []store.DB{sdb, pdb}, []Index{six, pix}
	pgDiffCorpus(t, rng, vocab, dbs, ixs)
	err := pdb.Update(ctx, func(tx store.Tx) error {
		for _, s := range []string{`UPDATE search_docs SET g = NULL, l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0`,
			`DELETE FROM search_postings`, `DELETE FROM search_stats`} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pix, _ = New(pdb) // a server started after the migration
	ixs[1] = pix
	for i, id := range []string{"d001", "d002", "d003", "new1", "new2"} {
		for j := range dbs {
			d := Doc{ID: id, Kind: "dataset", Name: id, Title: vocab[i] + " " + vocab[i+1], Label: "OPEN", Owner: "u1", Updated: time.Unix(int64(i), 0).UTC()}
			if err := Put(ctx, dbs[j], ixs[j], d); err != nil {
				t.Fatal(err)
			}
		}
	}
	for j := range dbs {
		if err := Remove(ctx, dbs[j], ixs[j], "d004", "d005"); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range vocab {
		q := Query{Text: w, Limit: MaxLimit}
		a, err := six.Search(ctx, q, allOf(t, six))
		if err != nil {
			t.Fatal(err)
		}
		b, err := pix.Search(ctx, q, allOf(t, pix))
		if err != nil {
			t.Fatal(err)
		}
		if a.Total != b.Total || !cmp.Equal(a.Facets, b.Facets) || !equalIDSets(a, b) {
			t.Fatalf("%s before reindexing: SQLite %d %v, PostgreSQL %d %v", w, a.Total, a.Facets, b.Total, b.Facets)
		}
	}
	if err := pix.(Reindexer).Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	compareBackends(t, rng, vocab, six, pix, 100)
}

func equalIDSets(a, b *Result) bool {
	seen := map[string]int{}
	for _, h := range a.Hits {
		seen[h.ID]++
	}
	for _, h := range b.Hits {
		seen[h.ID]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return len(a.Hits) == len(b.Hits)
}

// TestPostgresReplicas runs concurrent writers and searchers on two
// indexes over one database (two replicas: each with its own document
// cache, loaded at arbitrary points while the others write), then checks
// that both answer every query exactly as a replica started afterwards.
// The caches are correct only if g grows in commit order across writers
// (allocG): a cache that missed a committed document would lose it.
func TestPostgresReplicas(t *testing.T) {
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.Postgres)
	a, _ := New(db)
	b, _ := New(db)
	vocab := []string{"reactor", "plasma", "neutron", "alloy", "qubit", "wafer"}
	errs := make(chan error, 3)
	for w := range 2 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(w), 35))
			ix := []Index{a, b}[w]
			var err error
			for i := 0; i < 30 && err == nil; i++ {
				if i%7 == 6 {
					err = Remove(ctx, db, ix, fmt.Sprintf("w%d-%02d", rng.IntN(2), rng.IntN(i)))
					continue
				}
				var docs []Doc
				for range 1 + rng.IntN(5) {
					docs = append(docs, Doc{ID: fmt.Sprintf("w%d-%02d", rng.IntN(2), rng.IntN(30)), Kind: "dataset", Name: "n",
						Title: vocab[rng.IntN(len(vocab))] + " " + vocab[rng.IntN(len(vocab))], Label: []string{"OPEN", "PROPRIETARY"}[rng.IntN(2)],
						Owner: "u1", Updated: time.Unix(int64(i), 0).UTC()})
				}
				err = Put(ctx, db, ix, docs...)
			}
			errs <- err
		}()
	}
	go func() {
		var err error
		for i := 0; i < 40 && err == nil; i++ {
			ix := []Index{a, b}[i%2]
			_, err = ix.Search(ctx, Query{Text: vocab[i%len(vocab)]}, allOf(t, ix))
		}
		errs <- err
	}()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	fresh, _ := New(db)
	// Warm loads every document's cache entry before any search.
	if err := fresh.(Warmer).Warm(ctx); err != nil {
		t.Fatal(err)
	}
	var maxG int64
	if err := db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT MAX(g) FROM search_docs`).Scan(&maxG)
	}); err != nil {
		t.Fatal(err)
	}
	if got := fresh.(*pgIndex).cache.loaded; got != maxG || maxG == 0 {
		t.Fatalf("warmed cache loaded up to g %d, the index has %d", got, maxG)
	}
	v := allOf(t, fresh)
	for _, w := range append(vocab, "re*", "n*") {
		q := Query{Text: w, Limit: MaxLimit}
		want, err := fresh.Search(ctx, q, v)
		if err != nil {
			t.Fatal(err)
		}
		if want.Total == 0 {
			continue
		}
		for i, ix := range []Index{a, b} {
			got, err := ix.Search(ctx, q, v)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("%s: replica %d (+) vs a new one (-):\n%s", w, i, d)
			}
		}
	}
}
