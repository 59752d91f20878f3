package library_test

import (
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// Reads of non-OPEN literature are on the record; a hidden passage leaves
// the same record as a missing one.
func TestAuditedReads(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), worldOpts{})
	res, err := w.lib.ImportDocuments(ctx, w.alice, "PROPRIETARY//FUSION", "", []lit.Document{doc("10.3/a", "Secret tokamak results", "Confinement improved.")})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := w.lib.Passages(ctx, w.alice, res.Publications[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	records := func(action string, dec audit.Decision) []audit.Record {
		var out []audit.Record
		n, _ := w.log.Size(ctx)
		for i := range n {
			r, err := w.log.Get(ctx, i)
			if err != nil {
				t.Fatal(err)
			}
			if r.Action == action && r.Decision == dec {
				out = append(out, r)
			}
		}
		return out
	}
	before := len(records("publication.read", audit.Allow))
	if _, err := w.lib.Passage(ctx, w.alice, ps[1].ID); err != nil {
		t.Fatal(err)
	}
	if n := len(records("publication.read", audit.Allow)); n != before+1 {
		t.Errorf("alice's read of a PROPRIETARY passage left %d records", n-before)
	}
	if _, err := w.lib.Search(ctx, w.alice, lit.Query{Text: "confinement"}); err != nil {
		t.Fatal(err)
	}
	if len(records("publication.search", audit.Allow)) != 1 {
		t.Errorf("search of PROPRIETARY passages not recorded")
	}
	// Bob: hidden and missing leave one deny record each, alike.
	w.lib.Passage(ctx, w.bob, ps[1].ID)
	w.lib.Passage(ctx, w.bob, "psg_000000000000000000000000")
	deny := records("passage.read", audit.Deny)
	if len(deny) != 2 || deny[0].Detail != deny[1].Detail || len(deny[0].Label) != len(deny[1].Label) {
		t.Errorf("deny records differ: %+v", deny)
	}
}

// Concurrent imports of one document make one publication.
func TestConcurrentImports(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db, worldOpts{})
		var wg sync.WaitGroup
		statuses := make([]string, 4)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{doc("10.4/same", "One document imported four times at once", "Text.")})
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = res.Publications[0].Status
			}()
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			if s == "created" {
				created++
			} else if s != "unchanged" {
				t.Errorf("status %q", s)
			}
		}
		r, err := w.cat.Search(ctx, w.admin, search.Query{Kind: "publication"})
		if err != nil || created != 1 || r.Total != 1 {
			t.Errorf("created %d (%v), %d publications, %v", created, statuses, r.Total, err)
		}
	})
}
