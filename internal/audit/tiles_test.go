package audit

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestReadTile: the tiles served verify as a C2SP/sumdb tile client checks
// them (tlog.TileHashReader against the signed tree hash), and entry
// bundles hash to the tree's leaves.
func TestReadTile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	defer l.Close()
	const n = 700
	for i := 0; i < n; i++ {
		l.Append(ctx, testRecord(i))
	}
	if _, err := l.AppendSync(ctx, testRecord(n)); err != nil {
		t.Fatal(err)
	}
	snap, err := OpenSnapshot(ctx, dir, v)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	for name, read := range map[string]func(context.Context, string) ([]byte, error){"log": l.ReadTile, "snapshot": snap.ReadTile} {
		msg, err := read(ctx, "checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		cp, err := OpenCheckpoint(msg, v)
		if err != nil {
			t.Fatal(err)
		}
		// A client: read tiles by C2SP path, verified against the root.
		tr := tileClient{read: func(p string) ([]byte, error) { return read(ctx, p) }}
		hr := tlog.TileHashReader(tlog.Tree{N: int64(cp.Size), Hash: cp.Hash}, tr)
		for _, i := range []int64{0, 255, 256, 511, 512, int64(cp.Size) - 1} {
			bundle, err := read(ctx, entriesPath(i/256, cp.Size))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			es := splitEntries(bundle)
			e := es[i%256][2:]
			p, err := tlog.ProveRecord(int64(cp.Size), i, hr)
			if err != nil {
				t.Fatalf("%s: proof from served tiles: %v", name, err)
			}
			if err := tlog.CheckRecord(p, int64(cp.Size), cp.Hash, i, tlog.RecordHash(e)); err != nil {
				t.Fatalf("%s: entry %d from the bundle is not in the tree: %v", name, i, err)
			}
		}
		for _, bad := range []string{"tile/0/005", "tile/entries/003", "tile/0/002.p/200", "tile/1/000", "../entries", "tile/x"} {
			if _, err := read(ctx, bad); err == nil {
				t.Errorf("%s: served %q", name, bad)
			}
		}
	}
}

func entriesPath(n int64, size uint64) string {
	p := fmt.Sprintf("tile/entries/%03d", n)
	if w := size - uint64(n)*256; w < 256 {
		p += fmt.Sprintf(".p/%d", w)
	}
	return p
}

// tileClient is a tlog.TileReader over C2SP paths (height 8, no H in the
// path).
type tileClient struct {
	read func(string) ([]byte, error)
}

func (c tileClient) Height() int { return 8 }

func (c tileClient) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := t.Path() // tile/8/L/N[.p/W]
		p = "tile/" + p[len("tile/8/"):]
		d, err := c.read(p)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (c tileClient) SaveTiles(tiles []tlog.Tile, data [][]byte) {}
