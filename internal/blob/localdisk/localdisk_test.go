package localdisk

import (
	"bytes"
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

// TestMixedCompression: one directory written under every compression
// setting in turn (the upgrade path: chunks stored raw before compression
// was on by default) serves every chunk under every setting, and
// compressible chunks written with compression on take less room.
func TestMixedCompression(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	text := bytes.Repeat([]byte("run,temperature_k,pressure_pa\n42,273.15,101325\n"), 20000)
	var ids []blob.ID
	var plains [][]byte
	levels := []chunk.Level{chunk.Off, chunk.Fastest, chunk.Default, chunk.Best}
	for i, l := range levels {
		s, err := Open(dir, Options{Compression: l})
		if err != nil {
			t.Fatal(err)
		}
		data := append([]byte{byte(i)}, text...)
		id := blob.Sum(data)
		if i%2 == 0 {
			err = s.Put(ctx, id, data)
		} else {
			err = s.PutDeferred(ctx, id, data)
			if err == nil {
				err = s.Sync(ctx, []blob.ID{id})
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Stat(ctx, id)
		if err != nil || info.Size != int64(len(data)) {
			t.Fatalf("level %v: Stat = %+v, %v", l, info, err)
		}
		if compressed := info.StoredSize < info.Size; compressed != (l != chunk.Off) {
			t.Fatalf("level %v: stored %d of %d bytes", l, info.StoredSize, info.Size)
		}
		ids, plains = append(ids, id), append(plains, data)
	}
	for _, l := range levels {
		s, err := Open(dir, Options{Compression: l})
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			got, err := s.Get(ctx, id, 1, 10)
			if err != nil || !bytes.Equal(got, plains[i][1:11]) {
				t.Fatalf("reading chunk %d under %v: %q, %v", i, l, got, err)
			}
		}
	}
}
