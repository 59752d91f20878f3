package library_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// Hybrid search: vectors are stored at import, the two rankings are fused
// by reciprocal rank (k = 60) with both ranks reported; a vector-only hit
// is found; an embedder failure is an error in hybrid mode and a fallback
// to BM25 in auto mode; ReindexVectors fills what is missing.
func TestHybrid(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) { testHybrid(t, db) })
}

func testHybrid(t *testing.T, db store.DB) {
	emb := &hashEmbedder{model: "hash-64"}
	w := newWorld(t, db, worldOpts{embedder: emb})
	docs := []lit.Document{
		doc("10.2/a", "Thermal conductivity of graphene", "Graphene conducts heat very well at room temperature."),
		doc("10.2/b", "Heat transport in graphene ribbons", "Ribbons of graphene transport heat along their edges."),
		doc("10.2/c", "Soil moisture sensing", "Capacitive probes measure soil moisture in fields."),
	}
	if _, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", docs); err != nil {
		t.Fatal(err)
	}
	// Every passage got a vector at import: nothing left to do.
	if n, err := w.lib.ReindexVectors(ctx); err != nil || n != 0 {
		t.Fatalf("reindex after import: %d %v", n, err)
	}
	hits, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "graphene heat", Mode: lit.ModeHybrid, Limit: 100})
	if err != nil || len(hits) == 0 {
		t.Fatalf("hybrid: %v %v", hits, err)
	}
	for i, h := range hits {
		want := 0.0
		if h.BM25 > 0 {
			want += 1 / float64(library.RRFK+h.BM25)
		}
		if h.Vector > 0 {
			want += 1 / float64(library.RRFK+h.Vector)
		}
		if h.Score != want || h.Vector == 0 {
			t.Errorf("hit %d %+v: score %v, want %v (every passage has a vector)", i, h, h.Score, want)
		}
		if i > 0 && h.Score > hits[i-1].Score {
			t.Errorf("not in score order at %d", i)
		}
	}
	// The vector ranking reaches passages BM25 does not match.
	bm, _ := w.lib.Search(ctx, w.bob, lit.Query{Text: "graphene heat", Mode: lit.ModeBM25, Limit: 100})
	if len(hits) <= len(bm) {
		t.Errorf("hybrid found %d, BM25 %d: no vector-only hits", len(hits), len(bm))
	}
	// Auto mode is hybrid when an embedder is configured.
	auto, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "graphene heat", Limit: 100})
	if err != nil || len(auto) != len(hits) || auto[0].ID != hits[0].ID {
		t.Errorf("auto: %v %v", auto, err)
	}
	// A failing endpoint: hybrid fails, auto falls back to BM25.
	emb.fail = true
	if _, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "graphene", Mode: lit.ModeHybrid}); err == nil {
		t.Error("hybrid with a failing embedder succeeded")
	}
	auto, err = w.lib.Search(ctx, w.bob, lit.Query{Text: "graphene heat", Limit: 100})
	if err != nil || len(auto) != len(bm) || auto[0].Vector != 0 || auto[0].Score != bm[0].Score {
		t.Errorf("auto fallback: %+v %v", auto, err)
	}
	// Passages imported while the endpoint is down get vectors later.
	if _, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{doc("10.2/d", "Graphene heat spreaders", "Spreaders cool chips.")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.lib.ReindexVectors(ctx); err == nil {
		t.Error("reindex with a failing embedder succeeded")
	}
	emb.fail = false
	if n, err := w.lib.ReindexVectors(ctx); err != nil || n != 3 {
		t.Errorf("reindex: %d %v, want 3 passages", n, err)
	}
	// Bad queries.
	for _, q := range []lit.Query{{Text: ""}, {Text: "x", Mode: "fuzzy"}, {Text: "x", Limit: 101}, {Text: string(make([]byte, 2000))}} {
		if _, err := w.lib.Search(ctx, w.bob, q); !errors.Is(errors.Invalid, err) {
			t.Errorf("%+v: %v", q, err)
		}
	}
}
