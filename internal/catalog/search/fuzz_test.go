package search_test

import (
	"context"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/catalog/search/searchtest"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// FuzzSearchSQLite sends arbitrary query text, filters and prefixes to a
// real FTS5 index: nothing may fail except a too-long query, and nothing
// the engine would parse as syntax may get through.
func FuzzSearchSQLite(f *testing.F) {
	for _, s := range searchtest.Hostile {
		f.Add(s, s)
	}
	f.Add("plasma", "pla")
	db := storetest.Migrated(f, storetest.SQLite)
	ix, err := search.New(db)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	err = search.Put(ctx, db, ix,
		search.Doc{ID: "a", Kind: "dataset", Name: "a", Title: "Plasma \"edge\" NEAR(x)", Description: "'; DROP TABLE x; --", Label: "OPEN", Keywords: []string{"plasma"}},
		search.Doc{ID: "b", Kind: "model", Name: "b", Title: "Ångström * OR", Label: "OPEN"})
	if err != nil {
		f.Fatal(err)
	}
	cs, _ := ix.Classes(ctx)
	var v search.Visibility
	for _, c := range cs {
		v.ReadableClasses = append(v.ReadableClasses, c.ID)
	}
	f.Fuzz(func(t *testing.T, q, other string) {
		r, err := ix.Search(ctx, search.Query{Text: q, Domain: other, Keywords: []string{other}}, v)
		if err != nil && !errors.Is(errors.TooLarge, err) && !errors.Is(errors.Invalid, err) {
			t.Fatalf("search %q: %v", q, err)
		}
		if err == nil && (r.Total > 2 || len(r.Hits) > r.Total) {
			t.Fatalf("search %q: %d hits, total %d", q, len(r.Hits), r.Total)
		}
		if _, err := ix.Suggest(ctx, q, v, 5); err != nil && !errors.Is(errors.TooLarge, err) {
			t.Fatalf("suggest %q: %v", q, err)
		}
	})
}
