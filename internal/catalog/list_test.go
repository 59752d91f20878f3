package catalog_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// Property: paging through List gives exactly the assets of the kind the
// caller could Get one by one, by name, each once — whatever the page
// size, and with more unreadable assets between than one of List's
// batches.
func TestListPagesLikeGet(t *testing.T) {
	storetest.ForEachBackend(t, testListPagesLikeGet)
}

func testListPagesLikeGet(t *testing.T, db store.DB) {
	w := newWorld(t, db)
	r := rand.New(rand.NewPCG(5, 6))
	labels := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "NATIONAL-SECURITY"}
	kinds := []catalog.Kind{catalog.KindDataset, catalog.KindModel}
	var names []string
	const n = 2300
	err := db.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			name := fmt.Sprintf("a%05d-%d", r.IntN(100000), i)
			names = append(names, name)
			if _, err := tx.Exec(ctx, `INSERT INTO assets (id, kind, name, title, description, label, project_id, owner_id, latest_version, created_at, updated_at)
				VALUES (?, ?, ?, '', '', ?, NULL, ?, 0, 0, 0)`, fmt.Sprintf("ds_t%06d", i), kinds[r.IntN(5)/4], name, labels[r.IntN(len(labels))], string(w.admin.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, tc := range []struct {
		who  string
		kind catalog.Kind
	}{{"bob", catalog.KindDataset}, {"carol", catalog.KindDataset}, {"carol", catalog.KindModel}} {
		p := w.bob
		if tc.who == "carol" {
			p = w.carol
		}
		var want []string
		for _, name := range names {
			if a, err := w.cat.Get(ctx, p, name); err == nil && a.Kind == tc.kind {
				want = append(want, name)
			}
		}
		if len(want) == 0 {
			t.Fatalf("%s may read no %s: the test needs some", tc.who, tc.kind)
		}
		for _, limit := range []int{0, 1, 9, 1000} {
			var got []string
			o := catalog.ListOptions{Limit: limit}
			for pages := 0; ; pages++ {
				if pages > n {
					t.Fatalf("%s, limit %d: the pages do not end", tc.who, limit)
				}
				as, next, err := w.cat.List(ctx, p, tc.kind, o)
				if err != nil {
					t.Fatal(err)
				}
				if len(as) > max(limit, 1000) || limit > 0 && len(as) > limit {
					t.Fatalf("a page of %d for limit %d", len(as), limit)
				}
				for _, a := range as {
					got = append(got, a.Name)
				}
				if next == "" {
					break
				}
				o.Cursor = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s, limit %d: listed %d, Get shows %d", tc.who, tc.kind, limit, len(got), len(want))
			}
		}
	}
	for _, bad := range []catalog.ListOptions{{Limit: 1001}, {Limit: -1}, {Cursor: "!!"}} {
		if _, _, err := w.cat.List(ctx, w.bob, catalog.KindDataset, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
