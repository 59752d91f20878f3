package catalog_test

import (
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestHiddenVersionLeavesAsManyRecordsAsMissing: after a declassification
// bob may read the asset but not its first version; asking for it and for
// a version that does not exist each leave exactly one record, as do
// asking for a hidden asset, a missing one, a release of a hidden version
// and a missing release — so the log's size does not tell them apart.
func TestHiddenVersionLeavesAsManyRecordsAsMissing(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db)
	c := w.cat
	officer := func(name string) *genesis.Principal {
		p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	co1, co2 := officer("co1"), officer("co2")
	for _, name := range []string{"results", "secret"} {
		if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: name, Label: "PROPRIETARY//FUSION"}); err != nil {
			t.Fatal(err)
		}
		if _, err := putOne(t, w, w.alice, name, "data of "+name); err != nil {
			t.Fatal(err)
		}
	}
	r, err := c.RequestRelease(ctx, co1, "results", 1, "OPEN", "publishing the paper's data")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecideRelease(ctx, co2, r.ID, true); err != nil {
		t.Fatal(err)
	}
	hiddenRel, err := c.RequestRelease(ctx, co1, "secret", 1, "PROPRIETARY", "lowering the secret a little")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, w.bob, "results"); err != nil {
		t.Fatalf("bob cannot read the released asset: %v", err)
	}
	records := func(f func() error) uint64 {
		t.Helper()
		before, _ := w.log.Size(ctx)
		if err := f(); err == nil {
			t.Fatal("bob was answered")
		}
		after, _ := w.log.Size(ctx)
		return after - before
	}
	for _, pair := range []struct {
		what            string
		hidden, missing func() error
	}{
		{"version",
			func() error { _, _, err := c.Version(ctx, w.bob, "results", 1); return err },
			func() error { _, _, err := c.Version(ctx, w.bob, "results", 9); return err }},
		{"asset",
			func() error { _, err := c.Get(ctx, w.bob, "secret"); return err },
			func() error { _, err := c.Get(ctx, w.bob, "nothing"); return err }},
		{"release",
			func() error { _, err := c.Release(ctx, w.bob, hiddenRel.ID); return err },
			func() error { _, err := c.Release(ctx, w.bob, "rel_nothing"); return err }},
	} {
		h, m := records(pair.hidden), records(pair.missing)
		if h != 1 || m != 1 {
			t.Errorf("%s: a hidden one leaves %d records, a missing one %d; want 1 and 1", pair.what, h, m)
		}
	}
}
