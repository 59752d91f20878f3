package localdisk

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/blobtest"
	"github.com/genesis-science/genesis/internal/blob/chunk"
)

// corruptible adds the suite's corruption hook by editing chunk files.
type corruptible struct{ *Store }

func (c corruptible) CorruptStored(id blob.ID, f func([]byte) []byte) error {
	p := c.Path(id)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return os.WriteFile(p, f(b), 0o600)
}

func TestConformance(t *testing.T) {
	for _, opts := range []Options{{}, {Compression: chunk.Fastest}, {Compression: chunk.Default}} {
		name := opts.Compression.String()
		t.Run(name, func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store {
				s, err := Open(t.TempDir(), opts)
				if err != nil {
					t.Fatal(err)
				}
				return corruptible{s}
			})
		})
	}
}

func TestLayoutAndTempFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("layout")
	id := blob.Sum(data)
	if err := s.Put(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	h := id.String()
	if _, err := os.Stat(filepath.Join(dir, h[:2], h[2:4], h)); err != nil {
		t.Fatalf("chunk not at its fan-out path: %v", err)
	}
	// A leftover temp file (a crashed writer) is invisible and cleanable.
	tmp := filepath.Join(dir, h[:2], h[2:4], ".tmp-123")
	if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(tmp, old, old)
	ids, err := s.Enumerate(ctx, "", 0)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("Enumerate with a temp file present = %v, %v", ids, err)
	}
	n, err := s.CleanTemp(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temp file still there: %v", err)
	}
	// No temp files remain after normal puts.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d != nil && !d.IsDir() && filepath.Base(p)[0] == '.' {
			t.Errorf("stray file %s", p)
		}
		return nil
	})
}
