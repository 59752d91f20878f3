package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestGCOneReplicaAtATime: with GC under a lease, a collection is refused
// (Conflict) while another replica collects, deletes nothing meanwhile, a
// dry run still reports, and once the other is done GC collects.
func TestGCOneReplicaAtATime(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db)
	c := w.cat
	ls := lease.New(db)
	c.SetExclusive(func(ctx context.Context, name string, work func(context.Context) error) error {
		return ls.Do(ctx, name, "replica-a", 0, work)
	})
	c.Create(ctx, w.alice, catalog.CreateSpec{Name: "d", Label: "OPEN"})
	orphan := []byte("an upload that was never committed")
	if err := c.PutChunk(ctx, w.alice, "d", blob.Sum(orphan), orphan); err != nil {
		t.Fatal(err)
	}
	other, ok, err := ls.Acquire(ctx, "gc", "replica-b", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := c.GC(ctx, w.admin, time.Minute, false); !errors.Is(errors.Conflict, err) {
		t.Fatalf("GC while replica-b collects: %v, want Conflict", err)
	}
	if g, err := c.GC(ctx, w.admin, time.Minute, true); err != nil || g.Scanned != 1 {
		t.Fatalf("dry run while replica-b collects: %+v %v", g, err)
	}
	if err := ls.Release(ctx, "gc", "replica-b", other.Token); err != nil {
		t.Fatal(err)
	}
	g, err := c.GC(ctx, w.admin, time.Minute, false)
	if err != nil || g.Scanned != 1 || g.KeptInGrace != 1 {
		t.Fatalf("GC after replica-b finished: %+v %v", g, err)
	}
	if h, ok, _ := ls.Holder(ctx, "gc"); ok {
		t.Fatalf("gc lease still held: %+v", h)
	}
}
