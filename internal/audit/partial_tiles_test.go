package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// partialSizes are tree sizes around the edges of tiles: a tree of one
// leaf, one short of a full tile, exactly one, one past it, and the same
// one level up (65,536 = 256 full tiles = one full level-1 tile).
var partialSizes = []uint64{1, 255, 256, 257, 65535, 65536, 65537}

// TestPartialTiles: at every size in partialSizes, the tiles served by
// the file log, a snapshot of it and the shared log (SQLite and
// PostgreSQL) — including the partial tiles of the head row at each
// level — are what a standard tlog client (tlog.TileHashReader, which
// checks every tile against the signed root) accepts: the tree hash
// recomputed from them is the checkpoint's root, entries at the edges
// have inclusion proofs, a partial tile wider than the tree and a full
// tile not yet full are refused, and the log verifies.
func TestPartialTiles(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 65,537 entries to each backend")
	}
	ctx := context.Background()
	entry := func(i uint64) audit.Record {
		return audit.Record{Time: time.Unix(int64(1e9+i), 0), Principal: "p", Action: "read", ObjectType: "dataset", ObjectID: fmt.Sprint(i), Decision: audit.Allow}
	}
	check := func(t *testing.T, size uint64, v note.Verifier, read func(string) ([]byte, error), raw func(uint64) ([]byte, error)) {
		t.Helper()
		msg, err := read("checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		cp, err := audit.OpenCheckpoint(msg, v)
		if err != nil || cp.Size != size {
			t.Fatalf("size %d: checkpoint %+v %v", size, cp, err)
		}
		hr := tlog.TileHashReader(tlog.Tree{N: int64(size), Hash: cp.Hash}, audit.NewTileClient(read))
		if root, err := tlog.TreeHash(int64(size), hr); err != nil || root != cp.Hash {
			t.Fatalf("size %d: tree hash from the served tiles %v %v, want %v", size, root, err, cp.Hash)
		}
		for _, i := range []uint64{0, 254, 255, 256, 65534, 65535, 65536, size - 1} {
			if i >= size {
				continue
			}
			e, err := raw(i)
			if err != nil {
				t.Fatal(err)
			}
			p, err := tlog.ProveRecord(int64(size), int64(i), hr)
			if err != nil {
				t.Fatalf("size %d: proof of %d from the served tiles: %v", size, i, err)
			}
			if err := tlog.CheckRecord(p, int64(size), cp.Hash, int64(i), tlog.RecordHash(e)); err != nil {
				t.Fatalf("size %d: entry %d: %v", size, i, err)
			}
		}
		// Each level's head: its partial tile is served at its exact width
		// (and narrower), never wider, and never as a full tile.
		for L := 0; size>>(8*L) > 0; L++ {
			width := size >> (8 * L)
			n, w := width/256, width%256
			if w == 0 {
				if _, err := read(fmt.Sprintf("tile/%d/%s", L, tlogN(n-1))); err != nil {
					t.Errorf("size %d: full tile %d/%d: %v", size, L, n-1, err)
				}
				if _, err := read(fmt.Sprintf("tile/%d/%s", L, tlogN(n))); err == nil {
					t.Errorf("size %d: served tile %d/%d, which does not exist", size, L, n)
				}
				continue
			}
			d, err := read(fmt.Sprintf("tile/%d/%s.p/%d", L, tlogN(n), w))
			if err != nil || uint64(len(d)) != w*32 {
				t.Errorf("size %d: partial tile %d/%d.p/%d: %d bytes, %v", size, L, n, w, len(d), err)
			}
			for _, bad := range []string{fmt.Sprintf("tile/%d/%s.p/%d", L, tlogN(n), w+1), fmt.Sprintf("tile/%d/%s", L, tlogN(n))} {
				if _, err := read(bad); err == nil {
					t.Errorf("size %d: served %s", size, bad)
				}
			}
		}
	}

	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		s, v := storeKeys(t)
		l, err := audit.Open(ctx, dir, audit.Options{Signer: s, Verifier: v, FlushInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var n uint64
		for _, size := range partialSizes {
			for ; n+1 < size; n++ {
				if _, err := l.Append(ctx, entry(n)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := l.AppendSync(ctx, entry(n)); err != nil {
				t.Fatal(err)
			}
			n++
			check(t, size, v, func(p string) ([]byte, error) { return l.ReadTile(ctx, p) }, func(i uint64) ([]byte, error) { return l.Entry(ctx, i) })
			snap, err := audit.OpenSnapshot(ctx, dir, v)
			if err != nil {
				t.Fatal(err)
			}
			check(t, size, v, func(p string) ([]byte, error) { return snap.ReadTile(ctx, p) }, func(i uint64) ([]byte, error) { return snap.Entry(ctx, i) })
			snap.Close()
			if rep, err := audit.Verify(ctx, dir, v); err != nil || rep.Checkpoint.Size != size {
				t.Fatalf("size %d: verify: %v %v", size, err, rep.Problems)
			}
		}
	})
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			open := sharedDB(t, b)
			db := open(t)
			s, v := storeKeys(t)
			l := openStoreLog(t, db, s, v)
			var n uint64
			for _, size := range partialSizes {
				for n < size {
					var batch [][]byte
					for ; n < size && len(batch) < 2048; n++ {
						e, err := audit.EncodeRecord(entry(n))
						if err != nil {
							t.Fatal(err)
						}
						batch = append(batch, e)
					}
					if _, err := audit.CommitBatch(l, batch); err != nil {
						t.Fatal(err)
					}
				}
				check(t, size, v, func(p string) ([]byte, error) { return l.ReadTile(ctx, p) }, func(i uint64) ([]byte, error) { return l.Entry(ctx, i) })
				// Another replica, whose tree catches up from the tiles.
				other := openStoreLog(t, open(t), s, v)
				check(t, size, v, func(p string) ([]byte, error) { return other.ReadTile(ctx, p) }, func(i uint64) ([]byte, error) { return other.Entry(ctx, i) })
				if rep := mustVerifyStore(t, db, v); rep.Checkpoint.Size != size {
					t.Fatalf("verified size %d, want %d", rep.Checkpoint.Size, size)
				}
			}
		})
	}
}

// tlogN is the C2SP spelling of tile index n.
func tlogN(n uint64) string {
	return tlog.Tile{H: 8, L: 0, N: int64(n), W: 256}.Path()[len("tile/8/0/"):]
}
