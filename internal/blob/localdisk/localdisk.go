// Package localdisk is the embedded-default blob.Store: chunks as files in a
// local directory.
//
// Layout: DIR/ab/cd/abcd…(64 hex), a two-level fan-out (65,536 leaf
// directories) so no directory grows past a few thousand entries below
// ~10⁸ chunks. Each file holds the chunk's frame (see package chunk).
//
// Crash safety: a chunk is written to a temporary file (".tmp-*") in its
// final directory, fsynced, renamed into place and the directory fsynced,
// so after a crash a chunk file is either absent or complete; Put returns
// only once the chunk is durable. Temporary files left by a crash are
// ignored by every operation and removed by CleanTemp.
package localdisk

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/errors"
)

// Options configure a Store.
type Options struct {
	// Compress frames new chunks with zstd (reading handles both forms).
	Compress bool
	// NoSync skips fsync; only for benchmarks that measure the rest.
	NoSync bool
}

// Store is a blob.Store in a local directory.
type Store struct {
	dir  string
	opts Options
}

var _ blob.Store = (*Store)(nil)

// Open returns the store in dir, creating dir if needed.
func Open(dir string, opts Options) (*Store, error) {
	const op errors.Op = "localdisk.Open"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return &Store{dir: abs, opts: opts}, nil
}

// Path returns the file that holds id (which may not exist).
func (s *Store) Path(id blob.ID) string {
	h := id.String()
	return filepath.Join(s.dir, h[:2], h[2:4], h)
}

func canceled(op errors.Op, ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return errors.E(op, errors.Canceled, err)
	}
	return nil
}

var _ blob.TrustedPutter = (*Store)(nil)

func (s *Store) Put(ctx context.Context, id blob.ID, data []byte) error {
	const op errors.Op = "localdisk.Put"
	if err := blob.CheckPut(op, id, data); err != nil {
		return err
	}
	return s.put(op, ctx, id, data)
}

// PutTrusted is Put without the re-hash (see blob.TrustedPutter).
func (s *Store) PutTrusted(ctx context.Context, id blob.ID, data []byte) error {
	const op errors.Op = "localdisk.PutTrusted"
	if len(data) > blob.MaxSize {
		return errors.E(op, errors.TooLarge, errors.Msg("chunk larger than 16 MiB"))
	}
	return s.put(op, ctx, id, data)
}

func (s *Store) put(op errors.Op, ctx context.Context, id blob.ID, data []byte) error {
	if err := canceled(op, ctx); err != nil {
		return err
	}
	path := s.Path(id)
	if _, err := os.Stat(path); err == nil {
		return nil // already stored: content addressing makes this a no-op
	}
	dir := filepath.Dir(path)
	if err := s.mkdirs(dir); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return errors.E(op, errors.Internal, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := chunk.WriteFrame(f, data, s.opts.Compress); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	if !s.opts.NoSync {
		if err := f.Sync(); err != nil {
			return errors.E(op, errors.Internal, err)
		}
	}
	if err := f.Close(); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	if err := canceled(op, ctx); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	ok = true
	if err := s.syncDir(dir); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	return nil
}

// mkdirs creates dir and its parents below s.dir, fsyncing each parent that
// gained an entry so the new directory survives a crash.
func (s *Store) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != s.dir {
		if err := s.mkdirs(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	return s.syncDir(parent)
}

func (s *Store) syncDir(dir string) error {
	if s.opts.NoSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *Store) Get(ctx context.Context, id blob.ID, off, length int64) ([]byte, error) {
	const op errors.Op = "localdisk.Get"
	if err := canceled(op, ctx); err != nil {
		return nil, err
	}
	stored, err := os.ReadFile(s.Path(id))
	if os.IsNotExist(err) {
		return nil, blob.NotFound(op, id)
	}
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	plain, err := chunk.Unframe(op, id, stored)
	if err != nil {
		return nil, err
	}
	return blob.Slice(op, plain, off, length)
}

func (s *Store) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	const op errors.Op = "localdisk.Stat"
	if err := canceled(op, ctx); err != nil {
		return blob.Info{}, err
	}
	f, err := os.Open(s.Path(id))
	if os.IsNotExist(err) {
		return blob.Info{}, blob.NotFound(op, id)
	}
	if err != nil {
		return blob.Info{}, errors.E(op, errors.Internal, err)
	}
	defer f.Close()
	var hdr [chunk.HeaderSize]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return blob.Info{}, blob.Corrupt(op, id, err)
	}
	n, err := chunk.PlainSize(hdr[:])
	if err != nil {
		return blob.Info{}, blob.Corrupt(op, id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return blob.Info{}, errors.E(op, errors.Internal, err)
	}
	return blob.Info{ID: id, Size: n, StoredSize: fi.Size(), Modified: fi.ModTime()}, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// readDirNames returns the sorted names in dir that are n hex digits.
func readDirNames(dir string, n int) ([]string, error) {
	ents, err := os.ReadDir(dir) // sorted by name
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if isHex(e.Name(), n) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (s *Store) Enumerate(ctx context.Context, after string, limit int) ([]blob.ID, error) {
	const op errors.Op = "localdisk.Enumerate"
	if err := canceled(op, ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1000
	}
	// prefix(k) is after's first k characters: a directory whose name is
	// below it holds only ids below after.
	prefix := func(k int) string { return after[:min(k, len(after))] }
	var out []blob.ID
	l1s, err := readDirNames(s.dir, 2)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	for _, l1 := range l1s {
		if l1 < prefix(2) {
			continue
		}
		l2s, err := readDirNames(filepath.Join(s.dir, l1), 2)
		if err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		for _, l2 := range l2s {
			if l1+l2 < prefix(4) {
				continue
			}
			if err := canceled(op, ctx); err != nil {
				return nil, err
			}
			names, err := readDirNames(filepath.Join(s.dir, l1, l2), 64)
			if err != nil {
				return nil, errors.E(op, errors.Internal, err)
			}
			for _, name := range names {
				if name <= after || !strings.HasPrefix(name, l1+l2) {
					continue
				}
				id, err := blob.ParseID(name)
				if err != nil {
					continue
				}
				out = append(out, id)
				if len(out) == limit {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

func (s *Store) Remove(ctx context.Context, ids ...blob.ID) error {
	const op errors.Op = "localdisk.Remove"
	for _, id := range ids {
		if err := canceled(op, ctx); err != nil {
			return err
		}
		if err := os.Remove(s.Path(id)); err != nil && !os.IsNotExist(err) {
			return errors.E(op, errors.Internal, err)
		}
	}
	return nil
}

// CleanTemp removes temporary files older than age, left by writers that
// crashed mid-Put. Temporary files of running writers are younger.
func (s *Store) CleanTemp(ctx context.Context, age time.Duration) (removed int, err error) {
	const op errors.Op = "localdisk.CleanTemp"
	cutoff := time.Now().Add(-age)
	err = filepath.WalkDir(s.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasPrefix(d.Name(), ".tmp-") {
			if fi, err := d.Info(); err == nil && fi.ModTime().Before(cutoff) {
				if os.Remove(path) == nil {
					removed++
				}
			}
		}
		return nil
	})
	if err != nil {
		return removed, errors.E(op, err)
	}
	return removed, nil
}
