package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// FuzzReadTile: any path (it comes from /api/v1/audit/tlog/{path}) gets
// either the checkpoint, a hash tile of whole 32-byte hashes within one
// tile, an entry bundle (only under tile/entries/ or tile/data/), or a NotExist error — never a panic or another
// kind of error; and what is served for a path is the same on every read.
func FuzzReadTile(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	s, v := testKeys(f)
	l := openTest(f, dir, s, v)
	f.Cleanup(func() { l.Close() })
	for i := 0; i < 300; i++ {
		l.Append(ctx, testRecord(i))
	}
	if _, err := l.AppendSync(ctx, testRecord(300)); err != nil {
		f.Fatal(err)
	}
	cpNote, err := l.ReadTile(ctx, "checkpoint")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"checkpoint", "tile/0/000", "tile/0/001.p/45", "tile/1/000.p/1", "tile/entries/000", "tile/entries/001.p/45",
		"tile/0/x001/000", "tile/data/000", "tile/0/002", "tile/", "../checkpoint", "tile/0/000.p/0", "tile/0/000.p/256", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		b, err := l.ReadTile(ctx, path)
		if err != nil {
			if !errors.Is(errors.NotExist, err) {
				t.Fatalf("%q: %v, want a NotExist error", path, err)
			}
			return
		}
		switch {
		case path == "checkpoint":
			if !bytes.Equal(b, cpNote) {
				t.Fatalf("checkpoint changed")
			}
		case strings.HasPrefix(path, "tile/entries/") || strings.HasPrefix(path, "tile/data/"):
			// An entry bundle (C2SP and Go sumdb spellings; the HTTP
			// API refuses both, see httpapi's auditTile).
			if len(b) == 0 {
				t.Fatalf("%q: empty entry bundle", path)
			}
		default:
			if len(b) == 0 || len(b)%32 != 0 || len(b) > 256*32 {
				t.Fatalf("%q: %d bytes is not a hash tile", path, len(b))
			}
		}
		again, err := l.ReadTile(ctx, path)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%q: second read differs (%v)", path, err)
		}
	})
}
