package library_test

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// A raised publication takes its passages, facts and citation edges with
// it in the same transaction; a released one brings them back.
func TestRaiseAndReleaseFollow(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db, worldOpts{})
		a := doc("10.1000/raised", "Quokkaite synthesis", "Quokkaite has a yield of 87 %. Made at low temperature.")
		b := doc("10.1000/citer", "A paper citing quokkaite", "We build on earlier work.")
		b.References = []lit.Reference{{DOI: "10.1000/raised"}}
		res, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{a, b})
		if err != nil {
			t.Fatal(err)
		}
		pa, pb := res.Publications[0], res.Publications[1]
		ps, err := w.lib.Passages(ctx, w.bob, pa.ID)
		if err != nil || len(ps) != 3 {
			t.Fatalf("%v %v", ps, err)
		}
		visible := func(want bool) {
			t.Helper()
			hits, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "quokkaite"})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if h.Publication == pa.ID && !want {
					t.Errorf("bob finds passage %s of the raised publication", h.ID)
				}
			}
			if want && len(hits) == 0 {
				t.Error("bob finds nothing")
			}
			_, err = w.lib.Passage(ctx, w.bob, ps[2].ID)
			if want != (err == nil) || (!want && !errors.Is(errors.NotExist, err)) {
				t.Errorf("passage: want visible %v, got %v", want, err)
			}
			_, err = w.lib.Publication(ctx, w.bob, pa.Name)
			if want != (err == nil) || (!want && !errors.Is(errors.NotExist, err)) {
				t.Errorf("publication: want visible %v, got %v", want, err)
			}
			facts, _, err := w.lib.Facts(ctx, w.bob, lit.FactQuery{Property: "yield"})
			if err != nil || (len(facts) == 1) != want {
				t.Errorf("facts: want visible %v, got %+v %v", want, facts, err)
			}
			citer, err := w.lib.Publication(ctx, w.bob, pb.ID)
			if err != nil || (len(citer.Cites) == 1) != want {
				t.Errorf("citing paper's edges: want visible %v, got %+v %v", want, citer, err)
			}
			_, err = w.lib.Passages(ctx, w.bob, pa.ID)
			if want != (err == nil) {
				t.Errorf("passages: want visible %v, got %v", want, err)
			}
		}
		visible(true)
		if _, err := w.cat.Relabel(ctx, w.alice, pa.ID, "PROPRIETARY//FUSION"); err != nil {
			t.Fatal(err)
		}
		visible(false)
		// Alice, cleared, still sees it, at the new label.
		got, err := w.lib.Passage(ctx, w.alice, ps[2].ID)
		if err != nil || got.Label != "PROPRIETARY//FUSION" {
			t.Fatalf("alice: %+v %v", got, err)
		}
		// A release back to OPEN (two officers) brings it back.
		r, err := w.cat.RequestRelease(ctx, w.officer1, pa.ID, 1, "OPEN", "published in the open literature")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.cat.DecideRelease(ctx, w.officer2, r.ID, true); err != nil {
			t.Fatal(err)
		}
		visible(true)
		got, err = w.lib.Passage(ctx, w.bob, ps[2].ID)
		if err != nil || got.Label != "OPEN" || got.Version != 2 || !strings.Contains(got.Text, "87 %") {
			t.Fatalf("after release: %+v %v", got, err)
		}
	})
}
