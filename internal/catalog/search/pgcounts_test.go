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
		want := map[facetKey]int64{}
		for _, d := range model {
			p, err := prepare("test", d)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := classOf[[3]string{p.d.Kind, p.d.Label, p.d.Project}]
			if !ok {
				t.Fatalf("step %d: no class for %s", step, d.ID)
			}
			pgDeltas(want).add(c, p.d.Kind, p.d.Domain, p.d.Org, p.d.Synthetic, p.keywordList, 1)
		}
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
		if len(res.Hits) != min(5, total) {
			t.Fatalf("step %d: %d hits of %d", step, len(res.Hits), total)
		}
	}
}
