// Package pack turns file trees into chunks and a manifest, and back.
//
// Pack reads files, directories and streams, splits them into
// content-defined chunks, uploads the chunks the store lacks and stores the
// manifest last. It is a pipeline — read and chunk (one goroutine), hash
// chunks (Parallel), ask the store which it lacks (in batches of whatever
// is ready, up to 1024, with up to 3 calls out at once: one round trip per
// batch for stores that implement blob.MissingFinder), upload (Parallel) —
// with the whole-file hash on its own goroutine. Memory is bounded
// whatever the input size: files are read into segments of 2·Params.Max
// bytes, and chunks are slices of them (not copies) until uploaded; the
// segments hold at most Options.Memory bytes (default 64 MiB). Only a
// chunk's bytes that straddle two segments are copied, once. An
// interrupted Pack, run again, uploads only what is still missing. A store
// that defers durability (blob.Syncer) gets every chunk the manifest names
// synced in one batch before the manifest is stored.
//
// Restore writes a manifest's tree under a destination directory,
// byte-for-byte, verifying every file against its hash (and every chunk,
// unless the getter lets it skip that: see Restore), and cannot write
// outside the destination. Verify checks that a manifest's chunks are all
// present and intact.
//
// Decisions:
//   - Files smaller than Options.SmallFile (default 256 KiB, the minimum
//     chunk) are concatenated in path order and chunked as one stream, so
//     100,000 small files make ~100 chunks rather than 100,000 objects;
//     their manifest entries point into shared chunks with offsets. Larger
//     files are chunked on their own, so identical large files and their
//     unchanged regions deduplicate exactly.
//   - Symbolic links are recorded as links, never followed. A link whose
//     target is absolute or leads outside the packed directory is refused
//     (errors.Invalid): storing it would hand a restorer a path out of its
//     destination. Devices, sockets and FIFOs are refused too.
//   - A file whose size changes while it is read fails the pack
//     (errors.Conflict) rather than storing a torn version.
package pack

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/errors"
)

// Store is what Pack needs from a blob store.
type Store interface {
	blob.Putter
	blob.Stater
}

// Source is one thing to pack.
type Source struct {
	// Name is the path the source gets in the manifest. For a directory,
	// "" puts its contents at the top of the tree.
	Name string
	// Path is the file or directory to read (not followed if a symlink).
	Path string
	// Reader, if set, is packed as one file Name (e.g. standard input);
	// Path is then ignored.
	Reader io.Reader
}

// Sources maps command-line arguments to sources: a single directory
// argument contributes its contents at the top; otherwise every argument
// is stored under its base name; "-" is standard input, stored as "stdin".
func Sources(args []string, stdin io.Reader) ([]Source, error) {
	const op errors.Op = "pack.Sources"
	if len(args) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("nothing to pack"))
	}
	var out []Source
	for _, a := range args {
		if a == "-" {
			out = append(out, Source{Name: "stdin", Reader: stdin})
			continue
		}
		fi, err := os.Lstat(a)
		if err != nil {
			return nil, errors.E(op, errors.NotExist, errors.Msg(fmt.Sprintf("cannot read %s", a)), err)
		}
		name := filepath.Base(filepath.Clean(a))
		if len(args) == 1 && fi.IsDir() {
			name = ""
		}
		out = append(out, Source{Name: name, Path: a})
	}
	return out, nil
}

// Options tune Pack.
type Options struct {
	Parallel  int          // concurrent chunk uploads (and hashers); default 4
	Memory    int64        // bytes of read buffers; default 64 MiB (at least 4 segments of 2·Params.Max)
	Params    chunk.Params // default chunk.DefaultParams
	SmallFile int64        // files below this size share chunks; default Params.Min
	// Progress, if set, is called after each chunk is read, from the
	// goroutine that called Pack.
	Progress func(Progress)
	Now      func() time.Time // mtime of streams; default time.Now
}

// Progress reports how far a Pack is.
type Progress struct {
	Files    int   // files completely read
	Bytes    int64 // plaintext bytes read
	NewBytes int64 // plaintext bytes uploaded so far
}

// Result describes a finished Pack.
type Result struct {
	ID       blob.ID // the manifest's blob
	Manifest *manifest.Manifest
	Stats    manifest.Stats
	Chunks   int       // distinct data chunks referenced
	New      []blob.ID // data chunks the store lacked and Pack uploaded, sorted
	NewBytes int64     // their plaintext bytes: the real cost of this version
}

func (o *Options) defaults() error {
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Params == (chunk.Params{}) {
		o.Params = chunk.DefaultParams
	}
	if o.SmallFile <= 0 {
		o.SmallFile = int64(o.Params.Min)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Memory <= 0 {
		o.Memory = 64 << 20
	}
	o.Memory = max(o.Memory, 4*int64(segSize(o.Params)))
	return o.Params.Validate()
}

// item is an entry to be, with where its bytes come from.
type item struct {
	e      manifest.Entry
	fsPath string
	r      io.Reader
	// filled while reading:
	refs  []*ref // large files and streams: their own chunks
	start int64  // small files: offset in the small-file stream
}

// ref is a chunk being uploaded; the worker fills id.
type ref struct {
	id   blob.ID
	off  int64 // offset in its stream
	size int64
}

func modeBits(m fs.FileMode) uint32 {
	b := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// scan lists the entries of all sources, sorted by path.
func scan(srcs []Source, now time.Time) ([]*item, error) {
	const op errors.Op = "pack.scan"
	var items []*item
	add := func(name, fsPath, rel, root string, fi fs.FileInfo) error {
		if err := manifest.CheckPath(name); err != nil {
			return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot pack %s: %s", fsPath, errors.SafeMessage(err))))
		}
		it := &item{fsPath: fsPath, e: manifest.Entry{Path: name, MTime: fi.ModTime().UnixNano()}}
		switch t := fi.Mode().Type(); {
		case t == 0:
			it.e.Type, it.e.Mode, it.e.Size = manifest.File, modeBits(fi.Mode()), fi.Size()
		case t == fs.ModeDir:
			it.e.Type, it.e.Mode = manifest.Dir, modeBits(fi.Mode())
		case t == fs.ModeSymlink:
			target, err := os.Readlink(fsPath)
			if err != nil {
				return errors.E(op, errors.Internal, err)
			}
			// The target must stay inside the packed source (rel is the
			// link's path within it), not merely inside the manifest.
			if rel == "" || manifest.CheckTarget(rel, target) != nil {
				return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf(
					"symlink %s points outside %s (to %q); refusing to pack it", fsPath, root, target)))
			}
			it.e.Type, it.e.Target = manifest.Symlink, target
		default:
			return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("%s is not a regular file, directory or symlink", fsPath)))
		}
		items = append(items, it)
		return nil
	}
	for _, src := range srcs {
		if src.Reader != nil {
			if err := manifest.CheckPath(src.Name); err != nil {
				return nil, errors.E(op, err)
			}
			items = append(items, &item{r: src.Reader, e: manifest.Entry{
				Path: src.Name, Type: manifest.File, Mode: 0o644, MTime: now.UnixNano(), Size: -1}})
			continue
		}
		fi, err := os.Lstat(src.Path)
		if err != nil {
			return nil, errors.E(op, errors.NotExist, errors.Msg(fmt.Sprintf("cannot read %s", src.Path)), err)
		}
		if !fi.IsDir() {
			name := src.Name
			if name == "" {
				name = filepath.Base(src.Path)
			}
			if err := add(name, src.Path, "", filepath.Dir(src.Path), fi); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(src.Path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot read %s", p)), err)
			}
			rel, err := filepath.Rel(src.Path, p)
			if err != nil {
				return errors.E(op, errors.Internal, err)
			}
			rel = filepath.ToSlash(rel)
			name := path.Join(src.Name, rel)
			if rel == "." {
				if src.Name == "" {
					return nil
				}
				name = src.Name
			}
			fi, err := d.Info()
			if err != nil {
				return errors.E(op, errors.Internal, err)
			}
			return add(name, p, rel, src.Path, fi)
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].e.Path < items[j].e.Path })
	for i := 1; i < len(items); i++ {
		if items[i].e.Path == items[i-1].e.Path {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("two sources give the same path %q", items[i].e.Path)))
		}
	}
	return items, nil
}

// Pack stores the sources in st and returns the stored manifest. Nothing
// refers to the chunks until the caller records Result.ID, so a failed
// Pack leaves only unreferenced chunks behind (for gc).
func Pack(ctx context.Context, st Store, srcs []Source, opts Options) (*Result, error) {
	const op errors.Op = "pack.Pack"
	if err := opts.defaults(); err != nil {
		return nil, errors.E(op, err)
	}
	items, err := scan(srcs, opts.Now())
	if err != nil {
		return nil, errors.E(op, err)
	}

	g, gctx := errgroup.WithContext(ctx)
	pool := newBufPool(segSize(opts.Params), opts.Memory)
	up := &uploader{st: st, pool: pool, seen: map[blob.ID]bool{}}
	hashq := make(chan job, opts.Parallel)
	askq := make(chan job, maxAsk)
	putq := make(chan job, opts.Parallel)
	var hashers, uploaders sync.WaitGroup
	for range opts.Parallel {
		hashers.Add(1)
		g.Go(func() error {
			defer hashers.Done()
			return up.hash(gctx, hashq, askq)
		})
		uploaders.Add(1)
		g.Go(func() error {
			defer uploaders.Done()
			return up.upload(gctx, putq)
		})
	}
	g.Go(func() error {
		hashers.Wait()
		close(askq)
		return nil
	})
	var askers sync.WaitGroup
	for range askParallel {
		askers.Add(1)
		g.Go(func() error {
			defer askers.Done()
			return up.ask(gctx, askq, putq)
		})
	}
	g.Go(func() error {
		askers.Wait()
		close(putq)
		return nil
	})
	rd := &reader{ctx: gctx, jobs: hashq, pool: pool, opts: &opts, up: up}
	g.Go(func() error {
		defer close(hashq)
		return rd.readAll(items)
	})
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, errors.E(op, errors.Canceled, ctx.Err())
		}
		return nil, errors.E(op, err)
	}
	m := &manifest.Manifest{Entries: make([]manifest.Entry, len(items))}
	small := rd.smallRefs
	k := 0
	ids := map[blob.ID]bool{}
	for i, it := range items {
		e := it.e
		switch {
		case e.Type != manifest.File || e.Size == 0:
		case it.refs != nil:
			for _, r := range it.refs {
				e.Chunks = append(e.Chunks, manifest.Chunk{ID: r.id, Size: r.size})
				ids[r.id] = true
			}
		default: // a small file: pieces of the shared stream
			for pos, end := it.start, it.start+e.Size; pos < end; {
				for small[k].off+small[k].size <= pos {
					k++
				}
				c := small[k]
				n := min(end, c.off+c.size) - pos
				e.Chunks = append(e.Chunks, manifest.Chunk{ID: c.id, Offset: pos - c.off, Size: n})
				ids[c.id] = true
				pos += n
			}
		}
		m.Entries[i] = e
	}
	// The manifest is stored last, and only once every chunk it names is
	// durable: those this Pack sent, and any another writer of the same
	// store sent but has not synced yet (skipped here as present).
	all := make([]blob.ID, 0, len(ids))
	for id := range ids {
		all = append(all, id)
	}
	if err := blob.SyncAll(ctx, st, all); err != nil {
		return nil, errors.E(op, err)
	}
	id, err := manifest.Put(ctx, st, m)
	if err != nil {
		return nil, errors.E(op, err)
	}
	res := &Result{ID: id, Manifest: m, Stats: m.Stats(), Chunks: len(ids), New: up.new, NewBytes: up.newBytes.Load()}
	slices.SortFunc(res.New, func(a, b blob.ID) int { return strings.Compare(a.String(), b.String()) })
	return res, nil
}

// job is one chunk on its way through the pipeline: a slice of a read
// segment, which it holds until it is uploaded or found present.
type job struct {
	seg  *segment
	data []byte
	r    *ref
}

// segment is a read buffer. The chunks cut from it are slices of it,
// shared by their uploaders, the file hasher and the reader; the last user
// returns it to the pool.
type segment struct {
	data  []byte
	users atomic.Int32
}

// segSize is the size of read segments: room for a whole maximal chunk
// and as much again, so that at most one chunk in two maximal ones
// straddles a segment's end (and is copied to the next).
func segSize(p chunk.Params) int { return 2 * p.Max }

// bufPool hands out segments within a memory budget that counts every
// segment it has allocated, in use or idle: get reuses an idle one,
// allocates while the budget allows, and otherwise waits for a release.
// So the chunks of a Pack never hold more than the budget.
type bufPool struct {
	mu    sync.Mutex
	cond  *sync.Cond
	free  []*segment
	size  int
	used  int64 // bytes of all segments allocated
	limit int64
}

func newBufPool(size int, limit int64) *bufPool {
	p := &bufPool{size: size, limit: limit}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// get returns a segment with one user (the caller).
func (p *bufPool) get(ctx context.Context) (*segment, error) {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var s *segment
		if n := len(p.free); n > 0 {
			s, p.free = p.free[n-1], p.free[:n-1]
		} else if p.used+int64(p.size) <= p.limit {
			p.used += int64(p.size)
			s = &segment{data: make([]byte, p.size)}
		}
		if s != nil {
			s.users.Store(1)
			return s, nil
		}
		p.cond.Wait()
	}
}

// hold adds a user to s.
func (s *segment) hold() { s.users.Add(1) }

func (p *bufPool) release(s *segment) {
	if s.users.Add(-1) == 0 {
		p.mu.Lock()
		p.free = append(p.free, s)
		p.cond.Signal()
		p.mu.Unlock()
	}
}

type uploader struct {
	st       Store
	pool     *bufPool
	mu       sync.Mutex
	seen     map[blob.ID]bool // ids asked about (or being asked about)
	new      []blob.ID        // ids sent; read after the pipeline ends
	newBytes atomic.Int64
}

// maxAsk is the most chunks one Missing call asks about; askParallel how
// many calls may be out at once (so the round trip of one does not stall
// the pipeline).
const (
	maxAsk      = 1024
	askParallel = 3
)

// hash computes each chunk's ID.
func (u *uploader) hash(ctx context.Context, in <-chan job, out chan<- job) error {
	for j := range in {
		j.r.id = blob.Sum(j.data)
		select {
		case out <- j:
		case <-ctx.Done():
			u.pool.release(j.seg)
			return ctx.Err()
		}
	}
	return nil
}

// ask collects the hashed chunks that are ready (at least one, at most
// maxAsk), asks the store which it lacks in one call, and passes those on
// to the uploaders. Chunks this Pack has already handled (or another ask
// is handling) are not asked about again. While calls are out, the next
// batch builds up.
func (u *uploader) ask(ctx context.Context, in <-chan job, out chan<- job) error {
	var js []job
	var ids []blob.ID
	first := map[blob.ID]job{}
	for {
		j, ok := <-in
		if !ok {
			return nil
		}
		js = append(js[:0], j)
	fill:
		for len(js) < maxAsk {
			select {
			case j, ok := <-in:
				if !ok {
					break fill
				}
				js = append(js, j)
			default:
				break fill
			}
		}
		ids = ids[:0]
		clear(first)
		u.mu.Lock()
		for _, j := range js {
			if !u.seen[j.r.id] {
				u.seen[j.r.id] = true
				first[j.r.id] = j
				ids = append(ids, j.r.id)
			}
		}
		u.mu.Unlock()
		var missing []blob.ID
		if len(ids) > 0 {
			var err error
			if missing, err = blob.Missing(ctx, u.st, ids); err != nil {
				return err
			}
		}
		sent := make(map[*ref]bool, len(missing))
		for _, id := range missing {
			j, ok := first[id]
			if !ok {
				return errors.E("pack.upload", errors.Internal, errors.Msg("the store reported an id it was not asked about"))
			}
			u.mu.Lock()
			u.new = append(u.new, id)
			u.mu.Unlock()
			sent[j.r] = true
			select {
			case out <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, j := range js {
			if !sent[j.r] {
				u.pool.release(j.seg)
			}
		}
	}
}

// upload stores chunks (deferring durability where the store can: Pack
// syncs them all before it stores the manifest).
func (u *uploader) upload(ctx context.Context, in <-chan job) error {
	for j := range in {
		if err := blob.PutFast(ctx, u.st, j.r.id, j.data); err != nil {
			return err
		}
		u.newBytes.Add(int64(len(j.data)))
		u.pool.release(j.seg)
	}
	return nil
}

// reader runs in one goroutine for one Pack call, which is why it may
// hold that call's ctx.
type reader struct {
	ctx       context.Context
	jobs      chan<- job
	pool      *bufPool
	opts      *Options
	up        *uploader
	prog      Progress
	smallRefs []*ref
}

// chunkStream chunks r and queues the chunks, returning their refs. If
// hashq is not nil, every chunk is also sent there, in order.
//
// r is read into a segment until it holds at least a maximal chunk (or
// is full, or r ends); chunks are cut from the segment while the chunker
// can decide (chunk.Params.Cut); when it cannot and the segment is full,
// the undecided tail — the start of the next chunk — moves to a fresh
// segment. Cut decides from the bytes alone, so where reads end never
// moves a boundary.
func (rd *reader) chunkStream(r io.Reader, hashq chan<- job) ([]*ref, int64, error) {
	p := rd.opts.Params
	seg, err := rd.pool.get(rd.ctx)
	if err != nil {
		return nil, 0, err
	}
	defer func() { rd.pool.release(seg) }()
	var refs []*ref
	var n int64
	start, end, eof := 0, 0, false
	for {
		if cut := p.Cut(seg.data[start:end], eof); cut > 0 {
			data := seg.data[start : start+cut : start+cut]
			start += cut
			r := &ref{off: n, size: int64(cut)}
			refs = append(refs, r)
			n += int64(cut)
			seg.hold()
			select {
			case rd.jobs <- job{seg: seg, data: data, r: r}:
			case <-rd.ctx.Done():
				rd.pool.release(seg)
				return nil, 0, rd.ctx.Err()
			}
			if hashq != nil {
				seg.hold()
				select {
				case hashq <- job{seg: seg, data: data}:
				case <-rd.ctx.Done():
					rd.pool.release(seg)
					return nil, 0, rd.ctx.Err()
				}
			}
			rd.prog.Bytes += int64(cut)
			if rd.opts.Progress != nil {
				rd.prog.NewBytes = rd.up.newBytes.Load()
				rd.opts.Progress(rd.prog)
			}
			continue
		}
		if eof {
			return refs, n, nil
		}
		if end == len(seg.data) {
			next, err := rd.pool.get(rd.ctx)
			if err != nil {
				return nil, 0, err
			}
			end = copy(next.data, seg.data[start:end])
			start = 0
			rd.pool.release(seg)
			seg = next
		}
		for end < len(seg.data) && end-start < p.Max && !eof {
			k, err := r.Read(seg.data[end:])
			end += k
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return nil, 0, err
			}
		}
	}
}

func (rd *reader) readAll(items []*item) error {
	const op errors.Op = "pack.read"
	var small []*item
	for _, it := range items {
		if it.e.Type != manifest.File {
			continue
		}
		if it.r == nil && it.e.Size < rd.opts.SmallFile {
			small = append(small, it)
			continue
		}
		// The whole-file hash runs on its own goroutine, over the chunk
		// copies, so it overlaps with chunking.
		hashq, sum := make(chan job, 8), make(chan blob.ID, 1)
		go func() {
			h := blob.NewHasher()
			for j := range hashq {
				h.Write(j.data)
				rd.pool.release(j.seg)
			}
			sum <- h.Sum()
		}()
		src := it.r
		var f *os.File
		if src == nil {
			var err error
			if f, err = os.Open(it.fsPath); err != nil {
				close(hashq)
				return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("cannot read %s", it.fsPath)), err)
			}
			src = f
		}
		refs, n, err := rd.chunkStream(src, hashq)
		if f != nil {
			f.Close()
		}
		close(hashq)
		fileHash := <-sum
		if err != nil {
			return errors.E(op, err)
		}
		if it.e.Size >= 0 && n != it.e.Size {
			return changed(it)
		}
		it.e.Size = n
		if refs == nil {
			refs = []*ref{}
		}
		it.refs = refs
		it.e.Hash = fileHash
		rd.prog.Files++
	}
	ms := &multiStream{items: small, prog: &rd.prog}
	refs, _, err := rd.chunkStream(ms, nil)
	if ms.f != nil {
		ms.f.Close()
	}
	if err != nil {
		return errors.E(op, err)
	}
	rd.smallRefs = refs
	return nil
}

func changed(it *item) error {
	return errors.E("pack.read", errors.Conflict, errors.Msg(fmt.Sprintf("%s changed size while it was being packed", it.fsPath)))
}

// multiStream concatenates small files, hashing each and checking sizes.
type multiStream struct {
	items []*item
	i     int
	off   int64
	f     *os.File
	h     *blob.Hasher
	n     int64
	prog  *Progress
}

func (m *multiStream) Read(buf []byte) (int, error) {
	for {
		if m.i == len(m.items) {
			return 0, io.EOF
		}
		it := m.items[m.i]
		if m.f == nil {
			f, err := os.Open(it.fsPath)
			if err != nil {
				return 0, errors.E("pack.read", errors.Invalid, errors.Msg(fmt.Sprintf("cannot read %s", it.fsPath)), err)
			}
			m.f, m.h, m.n = f, blob.NewHasher(), 0
			it.start = m.off
		}
		// Never read past the size seen by the scan: the stream layout
		// depends on it.
		if want := it.e.Size - m.n; want > 0 {
			p := buf[:min(int64(len(buf)), want)]
			n, err := m.f.Read(p)
			m.h.Write(p[:n])
			m.n += int64(n)
			m.off += int64(n)
			if err != nil && err != io.EOF {
				return n, err
			}
			if err == io.EOF && m.n < it.e.Size {
				return 0, changed(it)
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		// At the scanned size: the file must end here.
		var one [1]byte
		if n, _ := m.f.Read(one[:]); n > 0 {
			return 0, changed(it)
		}
		m.f.Close()
		it.e.Hash = m.h.Sum()
		m.f = nil
		m.i++
		m.prog.Files++
	}
}

func sortIDs(ids []blob.ID) {
	slices.SortFunc(ids, func(a, b blob.ID) int { return strings.Compare(a.String(), b.String()) })
}
