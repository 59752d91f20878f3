package catalog_test

import (
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestFsckAndGC(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		c.Create(ctx, w.alice, catalog.CreateSpec{Name: "d", Label: "OPEN"})
		src := t.TempDir()
		randomTree(t, src, newRand())
		srcs, _ := pack.Sources([]string{src}, nil)
		res, err := pack.Pack(ctx, assetStore(c, w.alice, "d"), srcs, pack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Commit(ctx, w.alice, "d", catalog.CommitSpec{Manifest: res.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Fsck(ctx, w.alice, false); !errors.Is(errors.Permission, err) {
			t.Errorf("non-admin fsck: %v", err)
		}
		rep, err := c.Fsck(ctx, w.admin, false)
		if err != nil || len(rep.Problems) != 0 || rep.Versions != 1 || rep.Chunks != res.Chunks {
			t.Fatalf("fsck of a clean store = %+v, %v (want %d chunks)", rep, err, res.Chunks)
		}

		// An upload that never committed: kept within the grace period,
		// collected after it; committed chunks are never collected.
		orphan := []byte("an upload that was never committed")
		if err := c.PutChunk(ctx, w.alice, "d", blob.Sum(orphan), orphan); err != nil {
			t.Fatal(err)
		}
		g, err := c.GC(ctx, w.admin, time.Hour, false)
		if err != nil || g.Deleted != 0 || g.KeptInGrace != 1 {
			t.Fatalf("gc within grace = %+v, %v", g, err)
		}
		w.clock = w.clock.Add(2 * time.Hour)
		g, err = c.GC(ctx, w.admin, time.Hour, true)
		if err != nil || g.Deleted != 1 || !g.DryRun {
			t.Fatalf("dry run = %+v, %v", g, err)
		}
		if _, err := w.blobs.Stat(ctx, blob.Sum(orphan)); err != nil {
			t.Fatal("dry run deleted")
		}
		g, err = c.GC(ctx, w.admin, time.Hour, false)
		if err != nil || g.Deleted != 1 || g.Abandoned != 1 || g.KeptCommitted != res.Chunks+1 {
			t.Fatalf("gc after grace = %+v, %v (want %d committed kept)", g, err, res.Chunks+1)
		}
		if _, err := w.blobs.Stat(ctx, blob.Sum(orphan)); !errors.Is(errors.NotExist, err) {
			t.Errorf("orphan still stored: %v", err)
		}
		if rep, _ := c.Fsck(ctx, w.admin, false); len(rep.Problems) != 0 {
			t.Errorf("gc broke a version: %+v", rep.Problems)
		}
		// The collected chunk can be sent again (no stale tombstone).
		if err := c.PutChunk(ctx, w.alice, "d", blob.Sum(orphan), orphan); err != nil {
			t.Errorf("re-send after gc: %v", err)
		}

		// Corruption and loss are found.
		ids := res.Manifest.ChunkIDs()
		w.blobs.CorruptStored(ids[0], func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
		w.blobs.Remove(ctx, ids[1])
		rep, err = c.Fsck(ctx, w.admin, false)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, p := range rep.Problems {
			kinds[p.Kind]++
		}
		if kinds["corrupt-chunk"] != 1 || kinds["missing-chunk"] != 1 {
			t.Errorf("fsck problems = %+v", rep.Problems)
		}
		quick, _ := c.Fsck(ctx, w.admin, true)
		if len(quick.Problems) != 1 {
			t.Errorf("quick fsck (existence only) = %+v", quick.Problems)
		}
		if _, err := c.GC(ctx, w.admin, time.Second, false); errors.FieldOf(err) != "grace" {
			t.Errorf("tiny grace: %v", err)
		}
	})
}
