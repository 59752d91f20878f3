package catalog_test

import (
	"fmt"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// putOne commits a one-file version of asset name derived from inputs.
func putOne(t *testing.T, w *world, p *genesis.Principal, name, content string, inputs ...catalog.VersionRef) (*catalog.Version, error) {
	t.Helper()
	data := []byte(content)
	id := blob.Sum(data)
	m := &manifest.Manifest{Entries: []manifest.Entry{{Path: "f", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
		Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cat.PutChunk(ctx, p, name, id, data); err != nil {
		t.Fatal(err)
	}
	if err := w.cat.PutChunk(ctx, p, name, blob.Sum(raw), raw); err != nil {
		t.Fatal(err)
	}
	return w.cat.Commit(ctx, p, name, catalog.CommitSpec{Manifest: blob.Sum(raw), Inputs: inputs})
}

func TestLineage(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		mk := func(name, l string) {
			if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: name, Label: l}); err != nil {
				t.Fatal(err)
			}
		}
		mk("raw-open", "OPEN")
		mk("raw-fusion", "PROPRIETARY//FUSION")
		mk("derived", "PROPRIETARY//FUSION")
		mk("leak", "OPEN")
		putOne(t, w, w.alice, "raw-open", "a")
		putOne(t, w, w.alice, "raw-fusion", "b")
		in := []catalog.VersionRef{{Asset: "raw-open", Version: 1}, {Asset: "raw-fusion", Version: 1}}
		if _, err := putOne(t, w, w.alice, "derived", "c", in...); err != nil {
			t.Fatalf("derive: %v", err)
		}
		// No write down.
		if _, err := putOne(t, w, w.alice, "leak", "d", catalog.VersionRef{Asset: "raw-fusion", Version: 1}); errors.FieldOf(err) != "inputs" {
			t.Errorf("derived OPEN version from PROPRIETARY input: %v", err)
		}
		// Inputs the writer cannot read do not exist.
		c.Create(ctx, w.bob, catalog.CreateSpec{Name: "bobs", Label: "OPEN"})
		if _, err := putOne(t, w, w.bob, "bobs", "e", catalog.VersionRef{Asset: "raw-fusion", Version: 1}); errors.FieldOf(err) != "inputs" {
			t.Errorf("unreadable input: %v", err)
		}

		g, err := c.Lineage(ctx, w.carol, catalog.VersionRef{Asset: "derived"}, true, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Nodes) != 3 || len(g.Edges) != 2 {
			t.Errorf("upstream of derived = %+v", g)
		}
		// Bob sees raw-open's lineage, but not what was derived from it.
		g, err = c.Lineage(ctx, w.bob, catalog.VersionRef{Asset: "raw-open"}, false, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Nodes) != 1 || len(g.Edges) != 0 {
			t.Errorf("bob's downstream view leaks: %+v", g)
		}
		if _, err := c.Lineage(ctx, w.bob, catalog.VersionRef{Asset: "derived"}, true, 5); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob's view of derived: %v", err)
		}

		// Reclassifying an input upward reaches its descendants (fail closed).
		w.id.SetClearance(ctx, "alice", "PROPRIETARY//FUSION/ITAR")
		alice, _ := w.id.Principal(ctx, w.admin, "alice")
		if _, err := c.Relabel(ctx, alice, "raw-open", "PROPRIETARY//ITAR"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, w.carol, "derived"); !errors.Is(errors.NotExist, err) {
			t.Errorf("carol (no ITAR) still reads what was derived from ITAR data: %v", err)
		}
		d, err := c.Get(ctx, alice, "derived")
		if err != nil || d.Label != "PROPRIETARY//FUSION/ITAR" {
			t.Errorf("derived after raise = %+v, %v", d, err)
		}

		// Depth bounds the walk.
		mk("chain", "OPEN")
		prev := catalog.VersionRef{Asset: "chain"}
		for i := range 6 {
			v, err := putOne(t, w, alice, "chain", fmt.Sprint("v", i), func() []catalog.VersionRef {
				if i == 0 {
					return nil
				}
				return []catalog.VersionRef{prev}
			}()...)
			if err != nil {
				t.Fatal(err)
			}
			prev = catalog.VersionRef{Asset: "chain", Version: v.Version}
		}
		g, err = c.Lineage(ctx, alice, catalog.VersionRef{Asset: "chain", Version: 6}, true, 2)
		if err != nil || len(g.Nodes) != 3 || len(g.Edges) != 2 {
			t.Errorf("depth 2 = %+v, %v", g, err)
		}
		if _, err := c.Lineage(ctx, alice, prev, true, 0); errors.FieldOf(err) != "depth" {
			t.Errorf("depth 0: %v", err)
		}
	})
}
