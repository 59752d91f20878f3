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
//
// PutDeferred (blob.Syncer) writes the temporary file and stops there: the
// chunk is served from it by this process, and Sync later fsyncs a whole
// batch of them in parallel, renames them into place and fsyncs their
// directories once each. A file under a chunk's final name has therefore
// always been fsynced first; a deferred chunk lost in a crash is a
// temporary file that nothing serves after the restart, so it is absent,
// not torn. A chunk made durable on its own costs a file and a directory
// flush (~4 ms a chunk when uploads are serial); one batched Sync before a
// commit costs about what `sync` after a `cp` does. PutDeferred also
// starts the disk writing each chunk at once (sync_file_range), so that
// by the Sync most of an upload is on the disk already.
package localdisk

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/errors"
)

// Options configure a Store.
type Options struct {
	// Compression is the zstd level of new chunks (chunk.Off, the zero
	// value, stores them raw); reading handles every form.
	Compression chunk.Level
	// NoSync skips fsync; only for benchmarks that measure the rest.
	NoSync bool
}

// Store is a blob.Store in a local directory.
type Store struct {
	dir  string
	opts Options

	mu      sync.Mutex
	pending map[blob.ID]*deferred // written by PutDeferred, not yet synced
	newDirs map[string]bool       // created by PutDeferred, entry not yet synced
}

// deferred is a chunk in its temporary file, awaiting Sync.
type deferred struct {
	tmp     string
	syncing *attempt // set while a Sync handles it
}

// attempt is one Sync's handling of a deferred chunk: done is closed when
// it is over, err is its outcome.
type attempt struct {
	done chan struct{}
	err  error
}

var (
	_ blob.Store       = (*Store)(nil)
	_ blob.Syncer      = (*Store)(nil)
	_ blob.PlainOpener = (*Store)(nil)
)

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
	return &Store{dir: abs, opts: opts, pending: map[blob.ID]*deferred{}, newDirs: map[string]bool{}}, nil
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
	if s.lookup(id) != nil {
		// Written deferred: a durable Put makes it durable.
		if err := s.Sync(ctx, []blob.ID{id}); err != nil {
			return errors.E(op, err)
		}
		if _, err := os.Stat(path); err == nil {
			return nil
		}
	}
	dir := filepath.Dir(path)
	if err := s.mkdirs(dir, true); err != nil {
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
	if err := chunk.WriteFrame(f, data, s.opts.Compression); err != nil {
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
	// A directory PutDeferred created has an entry in its parent that no
	// fsync covers yet: cover it now, this chunk is durable on return.
	for d := dir; d != s.dir; d = filepath.Dir(d) {
		s.mu.Lock()
		unsynced := s.newDirs[d]
		s.mu.Unlock()
		if !unsynced {
			continue
		}
		if err := s.syncDir(filepath.Dir(d)); err != nil {
			return errors.E(op, errors.Internal, err)
		}
		s.mu.Lock()
		delete(s.newDirs, d)
		s.mu.Unlock()
	}
	return nil
}

// mkdirs creates dir and its parents below s.dir. With sync, it fsyncs
// each parent that gained an entry so the new directory survives a crash;
// without, Sync does that later (it fsyncs the whole path of every chunk
// it renames into place).
func (s *Store) mkdirs(dir string, sync bool) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != s.dir {
		if err := s.mkdirs(parent, sync); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	if !sync {
		s.mu.Lock()
		s.newDirs[dir] = true
		s.mu.Unlock()
		return nil
	}
	return s.syncDir(parent)
}

func (s *Store) lookup(id blob.ID) *deferred {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending[id]
}

// PutDeferred writes the chunk to a temporary file without fsync; see
// blob.Syncer and the package comment.
func (s *Store) PutDeferred(ctx context.Context, id blob.ID, data []byte) error {
	const op errors.Op = "localdisk.PutDeferred"
	if len(data) > blob.MaxSize {
		return errors.E(op, errors.TooLarge, errors.Msg("chunk larger than 16 MiB"))
	}
	if err := canceled(op, ctx); err != nil {
		return err
	}
	path := s.Path(id)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if d := s.lookup(id); d != nil {
		if _, err := os.Stat(d.tmp); err == nil {
			return nil
		}
	}
	dir := filepath.Dir(path)
	if err := s.mkdirs(dir, false); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return errors.E(op, errors.Internal, err)
	}
	tmp := f.Name()
	err = chunk.WriteFrame(f, data, s.opts.Compression)
	if err == nil && !s.opts.NoSync {
		startWriteback(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return errors.E(op, errors.Internal, err)
	}
	s.mu.Lock()
	if old := s.pending[id]; old != nil && old.syncing == nil {
		os.Remove(old.tmp) // a lost earlier copy (CleanTemp), or a racing writer's
	}
	if old := s.pending[id]; old == nil || old.syncing == nil {
		s.pending[id] = &deferred{tmp: tmp}
	} else {
		os.Remove(tmp) // a Sync is moving another copy into place
	}
	s.mu.Unlock()
	return nil
}

// syncParallel bounds the fsyncs Sync runs at once: enough for the disk
// and the journal to batch them.
const syncParallel = 16

// Sync makes deferred chunks durable: it fsyncs their temporary files,
// renames them into place and fsyncs every directory on their paths once.
// Chunks another Sync is already handling are waited for.
func (s *Store) Sync(ctx context.Context, ids []blob.ID) error {
	const op errors.Op = "localdisk.Sync"
	var mine []*deferred
	var mineIDs []blob.ID
	var theirs []*attempt
	a := &attempt{done: make(chan struct{})}
	s.mu.Lock()
	for _, id := range ids {
		d := s.pending[id]
		switch {
		case d == nil:
		case d.syncing == nil:
			d.syncing = a
			mine, mineIDs = append(mine, d), append(mineIDs, id)
		case d.syncing != a:
			theirs = append(theirs, d.syncing)
		}
	}
	s.mu.Unlock()

	err := s.syncFiles(ctx, mine, mineIDs)
	a.err = err
	s.mu.Lock()
	for i, d := range mine {
		if err == nil {
			delete(s.pending, mineIDs[i])
		} else {
			d.syncing = nil // a later Sync may try again
		}
	}
	s.mu.Unlock()
	close(a.done)
	if err != nil {
		return errors.E(op, errors.Internal, err)
	}
	for _, t := range theirs {
		select {
		case <-t.done:
		case <-ctx.Done():
			return errors.E(op, errors.Canceled, ctx.Err())
		}
		if t.err != nil {
			return errors.E(op, errors.Internal, t.err)
		}
	}
	return nil
}

func (s *Store) syncFiles(ctx context.Context, ds []*deferred, ids []blob.ID) error {
	if len(ds) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(syncParallel)
	var mu sync.Mutex
	dirs := map[string]bool{s.dir: true}
	for i, d := range ds {
		path := s.Path(ids[i])
		addDirs := func() {
			mu.Lock()
			for dir := filepath.Dir(path); dir != s.dir; dir = filepath.Dir(dir) {
				dirs[dir] = true
			}
			mu.Unlock()
		}
		// The temp file is gone if it was removed meanwhile (Remove,
		// CleanTemp: nothing to keep) or renamed by an earlier Sync that
		// failed later (its final file was fsynced: its directories are
		// synced here).
		gone := func() error {
			if _, err := os.Stat(path); err == nil {
				addDirs()
			}
			return nil
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if !s.opts.NoSync {
				f, err := os.Open(d.tmp)
				if os.IsNotExist(err) {
					return gone()
				}
				if err != nil {
					return err
				}
				err = f.Sync()
				f.Close()
				if err != nil {
					return err
				}
			}
			if err := os.Rename(d.tmp, path); err != nil {
				if os.IsNotExist(err) {
					return gone()
				}
				return err
			}
			addDirs()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if s.opts.NoSync {
		return nil
	}
	g, _ = errgroup.WithContext(ctx)
	g.SetLimit(syncParallel)
	for dir := range dirs {
		g.Go(func() error { return s.syncDir(dir) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.mu.Lock()
	for dir := range dirs {
		delete(s.newDirs, dir)
	}
	s.mu.Unlock()
	return nil
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
	f, err := s.open(id)
	if os.IsNotExist(err) {
		return nil, blob.NotFound(op, id)
	}
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	stored, err := readFile(f)
	f.Close()
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	plain, err := chunk.Unframe(op, id, stored)
	if err != nil {
		return nil, err
	}
	return blob.Slice(op, plain, off, length)
}

// OpenPlain implements blob.PlainOpener for chunks stored raw.
func (s *Store) OpenPlain(ctx context.Context, id blob.ID) (*os.File, int64, error) {
	const op errors.Op = "localdisk.OpenPlain"
	if err := canceled(op, ctx); err != nil {
		return nil, 0, err
	}
	f, err := s.open(id)
	if os.IsNotExist(err) {
		return nil, 0, blob.NotFound(op, id)
	}
	if err != nil {
		return nil, 0, errors.E(op, errors.Internal, err)
	}
	var hdr [chunk.HeaderSize]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		f.Close()
		return nil, 0, blob.Corrupt(op, id, err)
	}
	n, raw, err := chunk.ParseHeader(hdr[:])
	if err != nil {
		f.Close()
		return nil, 0, blob.Corrupt(op, id, err)
	}
	if !raw {
		f.Close()
		return nil, 0, errors.E(op, errors.Invalid, errors.Msg("chunk is stored compressed"))
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != chunk.HeaderSize+n {
		f.Close()
		return nil, 0, blob.Corrupt(op, id, errors.New("chunk file size differs from its frame header"))
	}
	return f, n, nil
}

func (s *Store) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	const op errors.Op = "localdisk.Stat"
	if err := canceled(op, ctx); err != nil {
		return blob.Info{}, err
	}
	f, err := s.open(id)
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

// open opens the file holding id: its final file, or the temporary file
// of a deferred write (which a concurrent Sync may just have renamed).
func (s *Store) open(id blob.ID) (*os.File, error) {
	f, err := os.Open(s.Path(id))
	if !os.IsNotExist(err) {
		return f, err
	}
	d := s.lookup(id)
	if d == nil {
		return nil, err
	}
	if f, err := os.Open(d.tmp); !os.IsNotExist(err) {
		return f, err
	}
	return os.Open(s.Path(id))
}

// readFile reads all of f with one allocation of its size.
func readFile(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, nil
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
		s.mu.Lock()
		if d := s.pending[id]; d != nil && d.syncing == nil {
			delete(s.pending, id)
			os.Remove(d.tmp)
		}
		s.mu.Unlock()
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
