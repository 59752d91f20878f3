package pack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	stderrors "errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/errors"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	Parallel int  // concurrent chunk fetches; default 4
	Sync     bool // fsync every restored file before renaming it into place
	// Progress, if set, is called with the bytes of files written so far
	// after each piece of a file is written, from the goroutine that
	// called Restore.
	Progress func(written int64)
}

// RestoreResult describes a finished Restore.
type RestoreResult struct {
	Files int
	Bytes int64
}

// fetcher fetches a plan of chunks in order, a bounded window ahead of the
// consumer, and hands them over in order. It lives for one call, which is
// why it holds that call's ctx.
type fetcher struct {
	ctx   context.Context
	g     blob.Getter
	plan  []blob.ID
	slots []chan []byte
	sem   chan struct{}
}

func newFetcher(ctx context.Context, g blob.Getter, plan []blob.ID, parallel int) (*fetcher, *errgroup.Group) {
	eg, ctx := errgroup.WithContext(ctx)
	f := &fetcher{ctx: ctx, g: g, plan: plan, slots: make([]chan []byte, len(plan)), sem: make(chan struct{}, 2*parallel)}
	for i := range f.slots {
		f.slots[i] = make(chan []byte, 1)
	}
	next := make(chan int)
	eg.Go(func() error {
		defer close(next)
		for i := range plan {
			select {
			case f.sem <- struct{}{}: // released by the consumer
			case <-ctx.Done():
				return nil
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return nil
			}
		}
		return nil
	})
	// Every restored file is checked against its hash before it appears
	// under its name, so a getter that can skip its own per-chunk hash is
	// asked to: one hash of every byte instead of two.
	get := func(ctx context.Context, id blob.ID) ([]byte, error) { return blob.ReadAll(ctx, g, id) }
	if ug, ok := g.(blob.UnverifiedGetter); ok {
		get = ug.GetUnverified
	}
	for w := 0; w < parallel; w++ {
		eg.Go(func() error {
			for i := range next {
				b, err := get(ctx, plan[i])
				if err != nil {
					return err
				}
				f.slots[i] <- b
			}
			return nil
		})
	}
	return f, eg
}

// get returns chunk i of the plan; release(i) must follow when done.
func (f *fetcher) get(i int) ([]byte, error) {
	select {
	case b := <-f.slots[i]:
		f.slots[i] <- b // keep it for further pieces of the same chunk
		return b, nil
	case <-f.ctx.Done():
		return nil, f.ctx.Err()
	}
}

func (f *fetcher) release(i int) {
	<-f.slots[i]
	f.slots[i] = nil
	<-f.sem
}

// plan lists the chunks files need, in order, merging consecutive uses of
// the same chunk (small files share chunks), and each piece's plan index.
func plan(m *manifest.Manifest) (ids []blob.ID, idx [][]int) {
	idx = make([][]int, len(m.Entries))
	for i, e := range m.Entries {
		for _, c := range e.Chunks {
			if len(ids) == 0 || ids[len(ids)-1] != c.ID {
				ids = append(ids, c.ID)
			}
			idx[i] = append(idx[i], len(ids)-1)
		}
	}
	return ids, idx
}

func tmpName(p string) string {
	var b [8]byte
	rand.Read(b[:])
	return path.Join(path.Dir(p), ".genesis-restore-"+hex.EncodeToString(b[:]))
}

// Restore writes m's tree under dest (created if missing), byte for byte.
// Every file is verified against its hash, and every chunk by the store
// unless the getter is a blob.UnverifiedGetter (then the file hash is the
// one check of its bytes, done before the file gets its name); a
// file appears under its name only once complete (temp file + rename).
// Nothing is ever written outside dest: paths are validated and all file
// operations go through an os.Root, which also refuses to follow symlinks
// (pre-existing or restored) out of dest. Existing files at manifest paths
// are replaced. On error, files already restored stay. Not restored:
// ownership (not recorded) and symlink mtimes (os.Root has no Lchtimes).
func Restore(ctx context.Context, g blob.Getter, m *manifest.Manifest, dest string, opts RestoreOptions) (*RestoreResult, error) {
	const op errors.Op = "pack.Restore"
	if err := m.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cannot create the destination directory "+destProblem(dest, err)), err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cannot open the destination directory "+destProblem(dest, err)), err)
	}
	defer root.Close()

	ids, idx := plan(m)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f, eg := newFetcher(fctx, g, ids, opts.Parallel)
	res := &RestoreResult{}
	var written int64
	wrote := func(n int) {
		written += int64(n)
		if opts.Progress != nil {
			opts.Progress(written)
		}
	}
	made := map[string]bool{".": true}
	dirs := &dirRoot{root: root}
	defer dirs.close()
	werr := func() error {
		released := 0 // plan entries below this have been released
		for i, e := range m.Entries {
			if dir := path.Dir(e.Path); !made[dir] {
				if err := root.MkdirAll(dir, 0o700); err != nil {
					return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot create the directory of %q", e.Path)), err)
				}
				made[dir] = true
			}
			switch e.Type {
			case manifest.Dir:
				if err := root.MkdirAll(e.Path, 0o700); err != nil {
					return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot create directory %q", e.Path)), err)
				}
			case manifest.Symlink:
				if fi, err := root.Lstat(e.Path); err == nil && !fi.IsDir() {
					root.Remove(e.Path)
				}
				if err := root.Symlink(e.Target, e.Path); err != nil {
					return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot create symlink %q", e.Path)), err)
				}
			case manifest.File:
				dr, err := dirs.get(path.Dir(e.Path))
				if err != nil {
					return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot open the directory of %q", e.Path)), err)
				}
				if err := writeFile(dr, path.Base(e.Path), f, e, idx[i], &released, opts.Sync, wrote); err != nil {
					return errors.E(op, err)
				}
				res.Files++
				res.Bytes += e.Size
			}
		}
		return nil
	}()
	if werr != nil {
		cancel() // stop the fetchers
	}
	ferr := eg.Wait()
	if werr != nil {
		if ctx.Err() != nil {
			return nil, errors.E(op, errors.Canceled, ctx.Err())
		}
		if ferr != nil && errors.IsErr(werr, context.Canceled) {
			return nil, errors.E(op, ferr)
		}
		return nil, werr
	}
	if ferr != nil {
		return nil, errors.E(op, ferr)
	}
	// Directory modes and times last (deepest first): writing into a
	// directory changes its mtime, and a read-only directory would refuse
	// its own files.
	for i := len(m.Entries) - 1; i >= 0; i-- {
		e := m.Entries[i]
		if e.Type != manifest.Dir {
			continue
		}
		t := time.Unix(0, e.MTime)
		if err := root.Chmod(e.Path, os.FileMode(e.Mode&0o777)|modeFlags(e.Mode)); err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		root.Chtimes(e.Path, t, t)
	}
	return res, nil
}

func modeFlags(b uint32) os.FileMode {
	var m os.FileMode
	if b&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if b&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if b&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// dirRoot holds the directory the files being restored go into, opened
// as an os.Root of its own: an os.Root resolves a multi-component path one
// component at a time (an openat and a close each), so creating, renaming
// and stamping a file by its name in its own directory's Root takes a
// third of the system calls. Manifest entries come sorted by path, so a
// directory's files are consecutive and one open Root at a time suffices.
type dirRoot struct {
	root *os.Root // dest
	dir  string   // the directory cur is, "" if none
	cur  *os.Root
}

// get returns the Root of dir (a slash path relative to dest).
func (d *dirRoot) get(dir string) (*os.Root, error) {
	if dir == "." {
		return d.root, nil
	}
	if d.cur != nil && d.dir == dir {
		return d.cur, nil
	}
	d.close()
	r, err := d.root.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	d.dir, d.cur = dir, r
	return r, nil
}

func (d *dirRoot) close() {
	if d.cur != nil {
		d.cur.Close()
		d.dir, d.cur = "", nil
	}
}

// writeFile restores the file e as name in the directory root.
func writeFile(root *os.Root, name string, f *fetcher, e manifest.Entry, idx []int, released *int, sync bool, wrote func(int)) error {
	const op errors.Op = "pack.writeFile"
	tmp := tmpName(name)
	out, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot create %q", e.Path)), err)
	}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			root.Remove(tmp)
		}
	}()
	h := newFileHasher(e.Size)
	defer h.stop()
	for j, c := range e.Chunks {
		pi := idx[j]
		for *released < pi {
			f.release(*released)
			*released++
		}
		data, err := f.get(pi)
		if err != nil {
			return err
		}
		if c.Offset+c.Size > int64(len(data)) {
			return blob.Corrupt(op, c.ID, errors.New("manifest piece lies beyond the end of its chunk"))
		}
		piece := data[c.Offset : c.Offset+c.Size]
		if _, err := out.Write(piece); err != nil {
			return errors.E(op, errors.Internal, err)
		}
		h.write(piece)
		wrote(len(piece))
	}
	if h.sum() != e.Hash {
		return errors.E(op, errors.Internal, errors.Msg(fmt.Sprintf("restored %q does not match its file hash", e.Path)))
	}
	if err := out.Chmod(os.FileMode(e.Mode&0o777) | modeFlags(e.Mode)); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	if sync {
		if err := out.Sync(); err != nil {
			return errors.E(op, errors.Internal, err)
		}
	}
	if err := out.Close(); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	// rename(2) replaces an existing symlink itself, never its target.
	if err := root.Rename(tmp, name); err != nil {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot create %q", e.Path)), err)
	}
	ok = true
	t := time.Unix(0, e.MTime)
	root.Chtimes(name, t, t)
	return nil
}

// fileHasher hashes a file's pieces; for large files on another goroutine,
// so hashing overlaps with writing. The pieces are never modified after
// they are handed over (chunks are read-only once fetched).
type fileHasher struct {
	h    *blob.Hasher
	c    chan []byte
	done chan blob.ID
}

func newFileHasher(size int64) *fileHasher {
	fh := &fileHasher{h: blob.NewHasher()}
	if size >= 4<<20 {
		fh.c, fh.done = make(chan []byte, 8), make(chan blob.ID, 1)
		go func() {
			for p := range fh.c {
				fh.h.Write(p)
			}
			fh.done <- fh.h.Sum()
		}()
	}
	return fh
}

func (fh *fileHasher) write(p []byte) {
	if fh.c != nil {
		fh.c <- p
	} else {
		fh.h.Write(p)
	}
}

func (fh *fileHasher) sum() blob.ID {
	if fh.c == nil {
		return fh.h.Sum()
	}
	close(fh.c)
	id := <-fh.done
	fh.c = nil
	return id
}

// stop ends the goroutine if sum was not called (error paths).
func (fh *fileHasher) stop() {
	if fh.c != nil {
		close(fh.c)
		<-fh.done
	}
}

// WriteTo streams the content of file entry e to w, verifying every chunk
// and, at the end, the file hash (an error then means w received bytes
// that must be discarded). It is what `dataset cat` needs.
func WriteTo(ctx context.Context, g blob.Getter, e manifest.Entry, w io.Writer) error {
	const op errors.Op = "pack.WriteTo"
	if e.Type != manifest.File {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("%q is not a file", e.Path)))
	}
	h := blob.NewHasher()
	var cache blob.ID
	var data []byte
	for _, c := range e.Chunks {
		if data == nil || cache != c.ID {
			b, err := blob.ReadAll(ctx, g, c.ID)
			if err != nil {
				return errors.E(op, err)
			}
			data, cache = b, c.ID
		}
		if c.Offset+c.Size > int64(len(data)) {
			return blob.Corrupt(op, c.ID, errors.New("manifest piece lies beyond the end of its chunk"))
		}
		piece := data[c.Offset : c.Offset+c.Size]
		if _, err := w.Write(piece); err != nil {
			return errors.E(op, err)
		}
		h.Write(piece)
	}
	if h.Sum() != e.Hash {
		return errors.E(op, errors.Internal, errors.Msg(fmt.Sprintf("%q does not match its file hash", e.Path)))
	}
	return nil
}

// Report is the outcome of Verify.
type Report struct {
	Chunks  int       // distinct chunks checked
	Missing []blob.ID // referenced but not stored
	Corrupt []blob.ID // stored but failing verification or too short for a piece
}

// OK reports whether nothing is missing or corrupt.
func (r *Report) OK() bool { return len(r.Missing) == 0 && len(r.Corrupt) == 0 }

// Verify reads every chunk m references (each verified by the store) and
// checks that every piece lies within its chunk. Missing and corrupt chunks
// are reported, not returned as errors; the error is for everything else
// (store unavailable, canceled).
func Verify(ctx context.Context, g blob.Getter, m *manifest.Manifest, parallel int) (*Report, error) {
	const op errors.Op = "pack.Verify"
	if parallel <= 0 {
		parallel = 4
	}
	need := map[blob.ID]int64{} // the largest offset+size used
	var order []blob.ID
	for _, e := range m.Entries {
		for _, c := range e.Chunks {
			if _, ok := need[c.ID]; !ok {
				order = append(order, c.ID)
			}
			need[c.ID] = max(need[c.ID], c.Offset+c.Size)
		}
	}
	rep := &Report{Chunks: len(order)}
	var mu sync.Mutex
	eg, ctx := errgroup.WithContext(ctx)
	next := make(chan blob.ID)
	eg.Go(func() error {
		defer close(next)
		for _, id := range order {
			select {
			case next <- id:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for w := 0; w < parallel; w++ {
		eg.Go(func() error {
			for id := range next {
				b, err := blob.ReadAll(ctx, g, id)
				mu.Lock()
				switch {
				case err == nil && int64(len(b)) < need[id]:
					rep.Corrupt = append(rep.Corrupt, id)
				case err == nil:
				case errors.Is(errors.NotExist, err):
					rep.Missing = append(rep.Missing, id)
				case errors.IsErr(err, blob.ErrCorrupt):
					rep.Corrupt = append(rep.Corrupt, id)
				default:
					mu.Unlock()
					return err
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, errors.E(op, err)
	}
	sortIDs(rep.Missing)
	sortIDs(rep.Corrupt)
	return rep, nil
}

// destProblem names dest and says what is wrong with it, for a user: which
// path (dest or one of its parents) and why, without Go's "mkdir" prefix.
func destProblem(dest string, err error) string {
	var pe *fs.PathError
	if !stderrors.As(err, &pe) {
		return dest + ": " + err.Error()
	}
	if stderrors.Is(pe.Err, syscall.ENOTDIR) || stderrors.Is(pe.Err, syscall.EEXIST) {
		// MkdirAll's answer when dest, or a parent, is a file.
		for p := dest; ; p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				if p == dest {
					return dest + ": it is a file, not a directory"
				}
				return dest + ": " + p + " is a file, not a directory"
			}
			if filepath.Dir(p) == p {
				break
			}
		}
	}
	if pe.Path != dest {
		return dest + ": " + pe.Path + ": " + pe.Err.Error()
	}
	return dest + ": " + pe.Err.Error()
}
