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

// One document imported by two principals who cannot see each other's
// copies is two publications (polyinstantiation): the second importer is
// told nothing of the first, each reads its own, and a principal who
// reads both gets the oldest.
func TestPolyinstantiation(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), worldOpts{})
	d := doc("10.6/poly", "A document imported twice", "Its only paragraph mentions wombats.")
	first, err := w.lib.ImportDocuments(ctx, w.alice, "PROPRIETARY//FUSION", "", []lit.Document{d})
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.lib.ImportDocuments(ctx, w.bob, "OPEN", "", []lit.Document{d})
	if err != nil {
		t.Fatal(err)
	}
	a, b := first.Publications[0], second.Publications[0]
	if b.Status != "created" || b.ID == a.ID || b.Name != a.Name {
		t.Fatalf("bob's import: %+v (alice's %+v)", b, a)
	}
	psA, _ := w.lib.Passages(ctx, w.alice, a.ID)
	psB, _ := w.lib.Passages(ctx, w.bob, b.ID)
	if len(psA) != len(psB) || psA[2].ID != psB[2].ID {
		t.Fatalf("passage IDs differ: %v %v", psA, psB)
	}
	got, err := w.lib.Passage(ctx, w.bob, psA[2].ID)
	if err != nil || got.Publication != b.ID || got.Label != "OPEN" {
		t.Errorf("bob's passage: %+v %v", got, err)
	}
	got, err = w.lib.Passage(ctx, w.alice, psA[2].ID)
	if err != nil || got.Publication != a.ID {
		t.Errorf("alice's passage: %+v %v", got, err)
	}
	hits, err := w.lib.Search(ctx, w.alice, lit.Query{Text: "wombats"})
	if err != nil || len(hits) != 2 {
		t.Errorf("alice finds both copies: %+v %v", hits, err)
	}
	hits, err = w.lib.Search(ctx, w.bob, lit.Query{Text: "wombats"})
	if err != nil || len(hits) != 1 || hits[0].Publication != b.ID {
		t.Errorf("bob finds his copy only: %+v %v", hits, err)
	}
	// Alice's name resolves to her own (the oldest she may read).
	pub, err := w.lib.Publication(ctx, w.alice, a.Name)
	if err != nil || pub.ID != a.ID {
		t.Errorf("alice's name: %+v %v", pub, err)
	}
	// Bob importing again updates his own.
	again, err := w.lib.ImportDocuments(ctx, w.bob, "OPEN", "", []lit.Document{d})
	if err != nil || again.Publications[0].ID != b.ID || again.Publications[0].Status != "unchanged" {
		t.Errorf("bob again: %+v %v", again, err)
	}
}
