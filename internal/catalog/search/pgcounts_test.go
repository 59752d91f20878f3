package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestPostgresClassCounts checks the per-class facet counts the PostgreSQL
// backend keeps on write (search_class_facets, migration 0032) against a
// recount of a reference model after random batches of writes, deletes and
// relabels (a document moving between classes), and the unfiltered browse
// built from them against totals and facets counted from the model for
// random principals (readable classes, owner-readable classes).
//
// It also checks what the write path keeps for text search (migration
// 0035): search_stats against the model's per-class sizes and field
// lengths, and every postings blob, decoded, against the model's token
// counts per document — no posting of a deleted or replaced version left,
// none missing, each under the document's current g.
func TestPostgresClassCounts(t *testing.T) {
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.Postgres)
	ix, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(17, 4))
	words := []string{"reactor", "plasma", "alloy", "genome", "qubit", "wafer"}
	randDoc := func(id string) Doc {
		d := Doc{
			ID:        id,
			Kind:      []string{"dataset", "model"}[rng.IntN(2)],
			Name:      id,
			Title:     words[rng.IntN(len(words))],
			Domain:    []string{"", "fusion", "materials"}[rng.IntN(3)],
			Org:       []string{"", "ORNL", "LLNL", "tab\there"}[rng.IntN(4)],
			Project:   []string{"", "p1"}[rng.IntN(2)],
			Owner:     []string{"u1", "u2"}[rng.IntN(2)],
			Label:     []string{"OPEN", "PROPRIETARY", "NATIONAL-SECURITY"}[rng.IntN(3)],
			Updated:   time.Date(2026, 1, 1, 0, rng.IntN(60), 0, 0, time.UTC),
			Synthetic: rng.IntN(3) == 0,
		}
		for range rng.IntN(4) {
			// Repeats within a document count once.
			d.Keywords = append(d.Keywords, words[rng.IntN(len(words))])
		}
		return d
	}
	model := map[string]Doc{}
	for step := range 40 {
		switch op := rng.IntN(4); {
		case op < 2:
			var batch []Doc
			for range 1 + rng.IntN(12) {
				d := randDoc(fmt.Sprintf("d%02d", rng.IntN(30)))
				batch = append(batch, d)
				model[d.ID] = d // the last of an ID in a batch wins
			}
			err = db.Update(ctx, func(tx store.Tx) error { return ix.(BatchUpserter).UpsertBatch(ctx, tx, batch) })
		case op == 2:
			d := randDoc(fmt.Sprintf("d%02d", rng.IntN(30)))
			model[d.ID] = d
			err = Put(ctx, db, ix, d)
		default:
			var ids []string
			for range 1 + rng.IntN(4) {
				id := fmt.Sprintf("d%02d", rng.IntN(35)) // some missing
				ids = append(ids, id)
				delete(model, id)
			}
			err = Remove(ctx, db, ix, ids...)
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		classes, err := ix.Classes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		classOf := map[[3]string]ClassID{}
		for _, c := range classes {
			classOf[[3]string{c.Kind, c.Label, c.Project}] = c.ID
		}
		dl := newPGDeltas()
		wantPost := map[string]map[string][nFields]int32{} // term → ID → counts
		for _, d := range model {
			p, err := prepare("test", d)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := classOf[[3]string{p.d.Kind, p.d.Label, p.d.Project}]
			if !ok {
				t.Fatalf("step %d: no class for %s", step, d.ID)
			}
			lens := fieldLens(&p.f)
			dl.add(c, p.d.Kind, p.d.Domain, p.d.Org, p.d.Synthetic, p.keywordList, &lens, 1)
			for term, tf := range termFreqs(&p.f) {
				if wantPost[term] == nil {
					wantPost[term] = map[string][nFields]int32{}
				}
				wantPost[term][d.ID] = *tf
			}
		}
		want := dl.facets
		for k, n := range want {
			if n == 0 {
				delete(want, k)
			}
		}
		checkStatsAndPostings(t, db, step, dl.stats, wantPost)
		got := map[facetKey]int64{}
		err = db.View(ctx, func(tx store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT class_id, facet, value, n FROM search_class_facets WHERE n <> 0`)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				var k facetKey
				var n int64
				err := rows.Scan(&k.class, &k.facet, &k.value, &n)
				got[k] = n
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, cmp.AllowUnexported(facetKey{})); d != "" {
			t.Fatalf("step %d: per-class counts, recount (-) vs kept (+):\n%s", step, d)
		}
		// Browse for a random principal against the model.
		v := Visibility{Owner: []string{"", "u1", "u2"}[rng.IntN(3)]}
		readable, ownerReadable := map[ClassID]bool{}, map[ClassID]bool{}
		for _, c := range classes {
			switch rng.IntN(3) {
			case 0:
				readable[c.ID] = true
				v.ReadableClasses = append(v.ReadableClasses, c.ID)
			case 1:
				ownerReadable[c.ID] = true
				v.OwnerReadableClasses = append(v.OwnerReadableClasses, c.ID)
			}
		}
		fc, total := facetCounter{}, 0
		for _, d := range model {
			p, _ := prepare("test", d)
			c := classOf[[3]string{p.d.Kind, p.d.Label, p.d.Project}]
			if !readable[c] && !(v.Owner != "" && p.d.Owner == v.Owner && ownerReadable[c]) {
				continue
			}
			total++
			fc.add(FacetKind, p.d.Kind, 1)
			fc.add(FacetDomain, p.d.Domain, 1)
			fc.add(FacetOrg, p.d.Org, 1)
			for _, kw := range p.keywordList {
				fc.add(FacetKeyword, kw, 1)
			}
			if p.d.Synthetic {
				fc.add(FacetSynthetic, "true", 1)
			}
		}
		res, err := ix.Search(ctx, Query{Limit: 5}, v)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != total {
			t.Fatalf("step %d: browse total %d, model %d", step, res.Total, total)
		}
		if d := cmp.Diff(fc.result(), res.Facets); d != "" {
			t.Fatalf("step %d: browse facets, model (-) vs index (+):\n%s", step, d)
		}
		// Again: the merged counts of this set of classes now come from
		// the cache of sums.
		again, err := ix.Search(ctx, Query{Limit: 5}, v)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(res, again); d != "" {
			t.Fatalf("step %d: browse from cached sums differs:\n%s", step, d)
		}
		if len(res.Hits) != min(5, total) {
			t.Fatalf("step %d: %d hits of %d", step, len(res.Hits), total)
		}
	}
}

// checkStatsAndPostings compares search_stats and search_postings with the
// model's.
func checkStatsAndPostings(t *testing.T, db store.DB, step int, wantStats map[ClassID]*corpusStats, wantPost map[string]map[string][nFields]int32) {
	t.Helper()
	ctx := context.Background()
	gotStats := map[ClassID]corpusStats{}
	gotPost := map[string]map[string][nFields]int32{}
	err := db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT class_id, n, l0, l1, l2, l3, l4, l5 FROM search_stats`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var c ClassID
			var st corpusStats
			err := rows.Scan(&c, &st.n, &st.lens[0], &st.lens[1], &st.lens[2], &st.lens[3], &st.lens[4], &st.lens[5])
			if st != (corpusStats{}) {
				gotStats[c] = st
			}
			return err
		}); err != nil {
			return err
		}
		idOf := map[int64]string{}
		rows, err = tx.Query(ctx, `SELECT g, id FROM search_docs`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var g int64
			var id string
			err := rows.Scan(&g, &id)
			idOf[g] = id
			return err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT term, block, data FROM search_postings`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var term string
			var block int64
			var data []byte
			if err := rows.Scan(&term, &block, &data); err != nil {
				return err
			}
			if len(data) == 0 {
				return fmt.Errorf("empty postings blob for %q", term)
			}
			var tf [nFields]int32
			last := -1
			for len(data) > 0 {
				off, rest, ok := nextPosting(data, &tf)
				if !ok {
					return fmt.Errorf("corrupt postings for %q", term)
				}
				if int(off) <= last {
					return fmt.Errorf("postings for %q out of order", term)
				}
				last, data = int(off), rest
				id, ok := idOf[block<<blockShift|int64(off)]
				if !ok {
					return fmt.Errorf("posting of %q names g %d, no document", term, block<<blockShift|int64(off))
				}
				if gotPost[term] == nil {
					gotPost[term] = map[string][nFields]int32{}
				}
				if _, dup := gotPost[term][id]; dup {
					return fmt.Errorf("two postings of %q for %s", term, id)
				}
				gotPost[term][id] = tf
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("step %d: %v", step, err)
	}
	want := map[ClassID]corpusStats{}
	for c, st := range wantStats {
		if *st != (corpusStats{}) {
			want[c] = *st
		}
	}
	if d := cmp.Diff(want, gotStats, cmp.AllowUnexported(corpusStats{})); d != "" {
		t.Fatalf("step %d: search_stats, model (-) vs kept (+):\n%s", step, d)
	}
	if d := cmp.Diff(wantPost, gotPost); d != "" {
		t.Fatalf("step %d: postings, model (-) vs kept (+):\n%s", step, d)
	}
}
