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
	"strconv"
	"sync"
	"sync/atomic"
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
	Writers  int  // files written at once; default 4
	Sync     bool // fsync every restored file before renaming it into place
	// Progress, if set, is called with the bytes of files written so far,
	// a few times a second and once at the end, from the goroutine that
	// called Restore; each call reports more than the one before.
	Progress func(written int64)
}

// RestoreResult describes a finished Restore.
type RestoreResult struct {
	Files int
	Bytes int64
}

// fetcher fetches a plan of chunks in order, a bounded window ahead of the
// writers, and hands each to every piece that needs it. A chunk is dropped
// (and its place in the window given to the next) once all its pieces have
// been written, in whatever order the writers get to them. It lives for
// one call, which is why it holds that call's ctx.
type fetcher struct {
	ctx   context.Context
	slots []slot
	sem   chan struct{}
}

type slot struct {
	ready chan struct{} // closed once data is set
	data  []byte
	refs  atomic.Int32 // pieces still to be written from it
}

// newFetcher starts fetching plan into eg, at most 2·parallel chunks held
// at a time; refs[i] is the number of pieces that will read chunk i.
func newFetcher(ctx context.Context, eg *errgroup.Group, g blob.Getter, plan []blob.ID, refs []int32, parallel int) *fetcher {
	f := &fetcher{ctx: ctx, slots: make([]slot, len(plan)), sem: make(chan struct{}, 2*parallel)}
	for i := range f.slots {
		f.slots[i].ready = make(chan struct{})
		f.slots[i].refs.Store(refs[i])
	}
	next := make(chan int)
	eg.Go(func() error {
		defer close(next)
		for i := range plan {
			select {
			case f.sem <- struct{}{}: // released by the last piece's writer
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
				f.slots[i].data = b
				close(f.slots[i].ready)
			}
			return nil
		})
	}
	return f
}

// get returns chunk i of the plan; release(i) must follow once the piece
// read from it is written.
func (f *fetcher) get(i int) ([]byte, error) {
	s := &f.slots[i]
	select {
	case <-s.ready:
		return s.data, nil
	case <-f.ctx.Done():
		return nil, f.ctx.Err()
	}
}

func (f *fetcher) release(i int) {
	s := &f.slots[i]
	if s.refs.Add(-1) == 0 {
		s.data = nil
		<-f.sem
	}
}

// plan lists the chunks files need, in order, merging consecutive uses of
// the same chunk (small files share chunks), each piece's plan index, and
// how many pieces read each planned chunk.
func plan(m *manifest.Manifest) (ids []blob.ID, idx [][]int, refs []int32) {
	idx = make([][]int, len(m.Entries))
	for i, e := range m.Entries {
		for _, c := range e.Chunks {
			if len(ids) == 0 || ids[len(ids)-1] != c.ID {
				ids = append(ids, c.ID)
				refs = append(refs, 0)
			}
			idx[i] = append(idx[i], len(ids)-1)
			refs[len(refs)-1]++
		}
	}
	return ids, idx, refs
}

// tmpNames hands out the names files are written under before they are
// renamed into place: one random prefix per restore and a counter, so a
// name costs no system call.
type tmpNames struct {
	prefix string
	n      atomic.Uint64
}

func newTmpNames() *tmpNames {
	var b [8]byte
	rand.Read(b[:])
	return &tmpNames{prefix: ".genesis-restore-" + hex.EncodeToString(b[:]) + "-"}
}

func (t *tmpNames) next() string {
	return t.prefix + strconv.FormatUint(t.n.Add(1), 36)
}

// batch is a run of consecutive file entries of one directory, handed to
// one writer.
type batch struct{ first, end int }

// Batches end at the end of a directory's files, or after this many files
// or bytes. Creating and renaming a file lock its directory, so writers
// in different directories do not wait for (or spin on) each other; and
// a batch is large enough that handing it over costs nothing next to
// writing it.
const (
	batchFiles = 1024
	batchBytes = 1 << 20
)

// Restore writes m's tree under dest (created if missing), byte for byte.
// Every file is verified against its hash, and every chunk by the store
// unless the getter is a blob.UnverifiedGetter (then the file hash is the
// one check of its bytes, done before the file gets its name); a
// file appears under its name only once complete (temp file + rename).
// Nothing is ever written outside dest: paths are validated and all file
// operations go through an os.Root, which also refuses to follow symlinks
// (pre-existing or restored) out of dest. Existing files at manifest paths
// are replaced. On error, files already restored stay, and no temp file
// is left behind. Not restored: ownership (not recorded) and symlink
// mtimes (os.Root has no Lchtimes).
//
// Directories and symlinks are made in manifest order by the calling
// goroutine; files are written by opts.Writers goroutines, each taking a
// batch of consecutive files of one directory, while opts.Parallel goroutines fetch the
// chunks in manifest order, at most 2·Parallel chunks held at a time.
// That bound holds whatever the writers' order: the earliest chunk still
// held is always needed by a file some writer is on (entries use chunks
// in nondecreasing plan order), so the window always moves.
func Restore(ctx context.Context, g blob.Getter, m *manifest.Manifest, dest string, opts RestoreOptions) (*RestoreResult, error) {
	const op errors.Op = "pack.Restore"
	if err := m.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Writers <= 0 {
		opts.Writers = 4
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cannot create the destination directory "+destProblem(dest, err)), err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cannot open the destination directory "+destProblem(dest, err)), err)
	}
	defer root.Close()

	ids, idx, refs := plan(m)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	eg, gctx := errgroup.WithContext(rctx)
	f := newFetcher(gctx, eg, g, ids, refs, opts.Parallel)
	w := &writer{root: root, f: f, m: m, idx: idx, sync: opts.Sync, tmp: newTmpNames()}
	work := make(chan batch, opts.Writers)
	for range opts.Writers {
		eg.Go(func() error { return w.run(work) })
	}

	// Progress from the writers' counter, on this goroutine.
	var reported int64
	report := func() {
		if n := w.written.Load(); opts.Progress != nil && n > reported {
			reported = n
			opts.Progress(n)
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	stopped := false // the writers stopped before every file was handed over
	send := func(b batch) bool {
		for {
			select {
			case work <- b:
				return true
			case <-gctx.Done():
				stopped = true
				return false
			case <-tick.C:
				report()
			}
		}
	}

	made := map[string]bool{".": true}
	derr := func() error {
		defer close(work)
		cur := batch{first: -1}
		var curBytes int64
		flush := func() bool {
			if cur.first < 0 {
				return true
			}
			ok := send(cur)
			cur, curBytes = batch{first: -1}, 0
			return ok
		}
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
				// Not consecutive (a directory or link came between) or in
				// another directory: a new batch.
				if cur.first >= 0 && (cur.end != i || path.Dir(m.Entries[cur.first].Path) != path.Dir(e.Path)) {
					if !flush() {
						return nil
					}
				}
				if cur.first < 0 {
					cur.first = i
				}
				cur.end = i + 1
				curBytes += e.Size
				if cur.end-cur.first >= batchFiles || curBytes >= batchBytes {
					if !flush() {
						return nil
					}
				}
			}
		}
		flush()
		return nil
	}()
	if derr != nil {
		cancel() // stop the fetchers and writers
	}
	// Wait for the writers, reporting progress meanwhile.
	done := make(chan error, 1)
	go func() { done <- eg.Wait() }()
	var werr error
wait:
	for {
		select {
		case werr = <-done:
			break wait
		case <-tick.C:
			report()
		}
	}
	switch {
	case ctx.Err() != nil && (derr != nil || werr != nil || stopped):
		return nil, errors.E(op, errors.Canceled, ctx.Err())
	case derr != nil:
		return nil, derr
	case werr != nil:
		return nil, errors.E(op, werr)
	case stopped: // cannot happen: the writers stop only on an error or cancel
		return nil, errors.E(op, errors.Internal, errors.Msg("the restore stopped before every file was written"))
	}
	report()
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
	return &RestoreResult{Files: int(w.files.Load()), Bytes: w.bytes.Load()}, nil
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

// writer writes the files of batches; its run is one writer goroutine.
type writer struct {
	root *os.Root
	f    *fetcher
	m    *manifest.Manifest
	idx  [][]int
	sync bool
	tmp  *tmpNames

	written, bytes, files atomic.Int64
}

func (w *writer) run(work <-chan batch) error {
	dirs := &dirCache{root: w.root}
	defer dirs.close()
	for b := range work {
		for i := b.first; i < b.end; i++ {
			e := w.m.Entries[i]
			d, err := dirs.get(path.Dir(e.Path))
			if err != nil {
				return errors.E(errors.Op("pack.Restore"), errors.Invalid, errors.Msg(fmt.Sprintf("cannot open the directory of %q", e.Path)), err)
			}
			if err := w.writeFile(d, path.Base(e.Path), e, w.idx[i]); err != nil {
				return err
			}
			w.files.Add(1)
			w.bytes.Add(e.Size)
		}
	}
	return nil
}

// outDir is a directory of the restored tree, in which a writer creates,
// renames and removes files by single-component names, so that no name is
// resolved from dest again (and none can lead out of it: the directory
// itself was opened through dest's os.Root). openOutDir, per platform,
// gives the cheapest one: on Linux the directory's descriptor used with
// the *at system calls directly; elsewhere an os.Root of its own.
type outDir interface {
	create(name string) (outFile, error) // new file, mode 0600, must not exist
	rename(from, to string) error
	remove(name string)
	chtimes(name string, t time.Time)
	close()
}

// outFile is a file being restored.
type outFile interface {
	io.Writer
	chmod(mode uint32) error // permission, setuid, setgid and sticky bits
	setTimes(t time.Time) error
	sync() error
	close() error
}

// rootDir is the portable outDir.
type rootDir struct {
	r   *os.Root
	own bool // close r with the rootDir
}

func (d rootDir) create(name string) (outFile, error) {
	f, err := d.r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (d rootDir) rename(from, to string) error     { return d.r.Rename(from, to) }
func (d rootDir) remove(name string)               { d.r.Remove(name) }
func (d rootDir) chtimes(name string, t time.Time) { d.r.Chtimes(name, t, t) }
func (d rootDir) close() {
	if d.own {
		d.r.Close()
	}
}

type osFile struct{ f *os.File }

func (f osFile) Write(p []byte) (int, error) { return f.f.Write(p) }
func (f osFile) chmod(mode uint32) error {
	return f.f.Chmod(os.FileMode(mode&0o777) | modeFlags(mode))
}
func (f osFile) setTimes(t time.Time) error { return setFileTimes(f.f, t) }
func (f osFile) sync() error                { return f.f.Sync() }
func (f osFile) close() error               { return f.f.Close() }

// dirCache holds the directory the files being restored go into, opened
// on its own: resolving a multi-component path in an os.Root takes an
// openat and a close per component, so creating, renaming and stamping a
// file by its name in its own directory takes a third of the system
// calls. Manifest entries come sorted by path, so a directory's files are
// consecutive and one open directory at a time (per writer) suffices.
type dirCache struct {
	root *os.Root // dest
	dir  string   // the directory cur is, "" if none
	cur  outDir
}

// get returns the outDir of dir (a slash path relative to dest).
func (d *dirCache) get(dir string) (outDir, error) {
	if d.cur != nil && d.dir == dir {
		return d.cur, nil
	}
	d.close()
	od, err := openDir(d.root, dir)
	if err != nil {
		return nil, err
	}
	d.dir, d.cur = dir, od
	return od, nil
}

func (d *dirCache) close() {
	if d.cur != nil {
		d.cur.close()
		d.dir, d.cur = "", nil
	}
}

// openDir is openOutDir; tests set it to openRootDir to run the portable
// path too.
var openDir = openOutDir

// openRootDir is the portable openOutDir.
func openRootDir(root *os.Root, dir string) (outDir, error) {
	if dir == "." {
		return rootDir{r: root}, nil
	}
	r, err := root.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return rootDir{r: r, own: true}, nil
}

// writeFile restores the file e as name in the directory d: create a
// temp file, write, check the hash, set mode and times through the open
// file, close, rename.
func (w *writer) writeFile(d outDir, name string, e manifest.Entry, idx []int) error {
	const op errors.Op = "pack.writeFile"
	tmp := w.tmp.next()
	out, err := d.create(tmp)
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot create %q", e.Path)), err)
	}
	ok := false
	defer func() {
		if !ok {
			out.close()
			d.remove(tmp)
		}
	}()
	h := newFileHasher(e.Size)
	defer h.stop()
	for j, c := range e.Chunks {
		pi := idx[j]
		data, err := w.f.get(pi)
		if err != nil {
			return err
		}
		if c.Offset+c.Size > int64(len(data)) {
			return blob.Corrupt(op, c.ID, errors.New("manifest piece lies beyond the end of its chunk"))
		}
		piece := data[c.Offset : c.Offset+c.Size]
		if _, err := out.Write(piece); err != nil {
			return errors.E(op, errors.Internal, errors.Msg(fmt.Sprintf("cannot write %q", e.Path)), err)
		}
		h.write(piece)
		w.f.release(pi)
		w.written.Add(int64(len(piece)))
	}
	if h.sum() != e.Hash {
		return errors.E(op, errors.Internal, errors.Msg(fmt.Sprintf("restored %q does not match its file hash", e.Path)))
	}
	if err := out.chmod(e.Mode); err != nil {
		return errors.E(op, errors.Internal, err)
	}
	// The times go on through the open file (no lookup by name); rename
	// leaves them as they are.
	t := time.Unix(0, e.MTime)
	timesSet := out.setTimes(t) == nil
	if w.sync {
		if err := out.sync(); err != nil {
			return errors.E(op, errors.Internal, err)
		}
	}
	err = out.close()
	out = closedFile{}
	if err != nil {
		return errors.E(op, errors.Internal, errors.Msg(fmt.Sprintf("cannot write %q", e.Path)), err)
	}
	// rename(2) replaces an existing symlink itself, never its target.
	if err := d.rename(tmp, name); err != nil {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot create %q", e.Path)), err)
	}
	ok = true
	if !timesSet {
		d.chtimes(name, t)
	}
	return nil
}

// closedFile stands for a file already closed, so that the clean-up does
// not close its descriptor twice (it may belong to another file by then).
type closedFile struct{ outFile }

func (closedFile) close() error { return nil }

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
