package library_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/formats"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// The README's example publications import as the tour says: five
// publications from four files, the second import changes nothing, the
// CsPbI3 paper cites two of the others, and searching finds it.
func TestExamples(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), worldOpts{formats: true})
	importAll := func() map[string]int {
		st := map[string]int{}
		err := formats.Walk(ctx, "../../../examples/lit/papers", func(name string, r io.Reader) error {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			res, err := w.lib.Import(ctx, w.alice, library.ImportRequest{Name: name, Label: "OPEN", Body: bytes.NewReader(b)})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return nil
			}
			for _, p := range res.Publications {
				st[p.Status]++
				if p.Status == library.StatusRejected {
					t.Errorf("%s: %+v", name, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := importAll(); st["created"] != 5 || len(st) != 1 {
		t.Fatalf("first import: %v", st)
	}
	if st := importAll(); st["unchanged"] != 5 || len(st) != 1 {
		t.Fatalf("second import: %v", st)
	}
	pub, err := w.lib.Publication(ctx, w.bob, "doi-10.5555-genesis.example.0001")
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.Cites) != 2 || pub.Passages < 6 {
		t.Errorf("the CsPbI3 paper: %+v", pub)
	}
	stab, err := w.lib.Publication(ctx, w.bob, "doi-10.5555-genesis.example.0002")
	if err != nil || len(stab.CitedBy) != 1 || stab.CitedBy[0] != pub.ID {
		t.Errorf("the stability paper: %+v %v", stab, err)
	}
	// Facts by the real extractor (internal/lit/extract).
	facts, _, err := w.lib.Facts(ctx, w.bob, lit.FactQuery{Property: "band_gap", Material: "cspbi3"})
	if err != nil || len(facts) == 0 || facts[0].Value.Value != 1.73 || facts[0].Value.Unit != "eV" || facts[0].Publication != pub.ID {
		t.Errorf("facts: %+v %v", facts, err)
	}
	hits, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "CsPbI3 band gap"})
	if err != nil || len(hits) == 0 || hits[0].Publication != pub.ID {
		t.Errorf("search: %+v %v", hits, err)
	}
}
