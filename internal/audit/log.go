package audit

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Appender is what the rest of Genesis calls to put a record on the log.
type Appender interface {
	// Append sequences r and returns its index. The entry becomes durable
	// within the implementation's flush interval and certainly before
	// Close returns.
	Append(ctx context.Context, r Record) (uint64, error)
	// AppendSync returns only once r is durable and covered by a durable
	// signed checkpoint. An error means the action being recorded must
	// fail (AU-5).
	AppendSync(ctx context.Context, r Record) (uint64, error)
}

// Reader reads the log. Only durable, integrated entries are visible.
type Reader interface {
	Size(ctx context.Context) (uint64, error)
	// Get returns entry index, or a NotExist error beyond Size.
	Get(ctx context.Context, index uint64) (Record, error)
	// Tail returns the last n entries, oldest first.
	Tail(ctx context.Context, n int) ([]Entry, error)
}

// Interface is a log that can be appended to and read.
type Interface interface {
	Appender
	Reader
}

var (
	_ Interface = (*Log)(nil)
	_ Interface = (*Memory)(nil)
)

// File names inside a log directory.
const (
	entriesFile   = "entries"
	checkpointF   = "checkpoint"
	prevCheckptF  = "checkpoint.prev"
	lockFile      = "lock"
	tmpCheckpoint = "checkpoint.tmp"
	tmpPrev       = "checkpoint.prev.tmp"
	tmpTile       = "tile.tmp"
)

// Options configure Open.
type Options struct {
	// Signer signs checkpoints; its key name is the log's origin.
	// Verifier must be its public half (see NewSigner, LoadSigner).
	Signer   note.Signer
	Verifier note.Verifier
	// FlushInterval bounds how long an Append waits to be fsynced
	// (default 50 ms).
	FlushInterval time.Duration
	// CheckpointInterval bounds how long an Append waits to be in a signed
	// checkpoint (default 500 ms, at most 5 s).
	CheckpointInterval time.Duration
	// MaxPending is the number of sequenced but unwritten entries at which
	// Append blocks until the writer catches up (default 8192). It bounds
	// how far appends can run ahead of the disk, and so the checkpoint lag.
	MaxPending int
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger     // default slog.Default()
	// LabelKey keys the label hashes of new records (Record.Label). Keep
	// it with the signing key (WriteLabelKeyFile): a log opened without
	// one gets a random key that lives as long as the process, and the
	// records it writes cannot be matched against labels after that.
	LabelKey LabelKey
	// OnAppend, if set, is told how long each Append (sync false) or
	// AppendSync (sync true) took and how it ended; for metrics. It must
	// be fast and must not block.
	OnAppend func(sync bool, d time.Duration, err error)
}

// check refuses Options without a matching key pair and fills in the
// defaults both backends share (MaxPending, Now, Logger, LabelKey).
func (o *Options) check() error {
	if o.Signer == nil || o.Verifier == nil {
		return errors.E(errors.Invalid, errors.Msg("audit log needs a signing key"))
	}
	if o.Signer.Name() != o.Verifier.Name() || o.Signer.KeyHash() != o.Verifier.KeyHash() {
		return errors.E(errors.Invalid, errors.Msg("audit signer and verifier keys differ"))
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 8192
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.LabelKey) == 0 {
		o.LabelKey = NewLabelKey()
	}
	return nil
}

// Log is the audit log in one local directory. It is safe for concurrent
// use; one process at a time may open a directory.
type Log struct {
	dir      string
	opts     Options
	origin   string
	lock     *os.File
	entriesW *os.File // written only by the writer goroutine
	entriesR *os.File

	mu         sync.Mutex
	next       uint64 // entries sequenced
	pending    []byte // framed entries not yet written
	pendingN   int
	spare      []byte
	syncWanted bool
	durable    uint64
	cp         Checkpoint
	cpNote     []byte
	err        error // sticky: once set, every append fails
	closed     bool
	changed    chan struct{} // closed and replaced when durable, cp or err change
	kick       chan struct{}
	quit       chan struct{}
	done       chan struct{}

	tmu       sync.RWMutex // guards tree, bundleOff, endOff
	tree      tree
	bundleOff []int64 // offset in entries of entry 256·k
	endOff    int64

	// owned by the writer goroutine
	dirtyDirs map[string]bool
	lastCP    time.Time

	// replayed holds the tiles Open recomputed until they are written.
	replayed map[string][]byte

	// failHook, if set (by tests), is called before each fsync of the
	// entries and its error treated as the fsync's.
	failHook func() error
}

// Open opens (creating if needed) the log in dir, repairing the effects of
// a crash. It refuses a log whose checkpoint does not verify or whose tiles
// and recent entries do not match it (run Verify to see why). Open reads
// the framing of every entry but re-hashes only those after the last full
// tile; Verify re-hashes everything.
func Open(ctx context.Context, dir string, opts Options) (*Log, error) {
	const op errors.Op = "audit.Open"
	if err := opts.check(); err != nil {
		return nil, errors.E(op, err)
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 50 * time.Millisecond
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = 500 * time.Millisecond
	}
	if opts.CheckpointInterval > 5*time.Second {
		opts.CheckpointInterval = 5 * time.Second
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	l := &Log{
		dir: dir, opts: opts, origin: opts.Signer.Name(),
		changed: make(chan struct{}), kick: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
		dirtyDirs: map[string]bool{},
	}
	l.tree.readTile = l.readTile
	if err := l.open(); err != nil {
		l.closeFiles()
		return nil, errors.E(op, err)
	}
	go l.run()
	return l, nil
}

func (l *Log) open() error {
	var err error
	l.lock, err = os.OpenFile(filepath.Join(l.dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	if err := syscall.Flock(int(l.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.E(errors.Conflict, errors.Msg("audit log is in use by another process"), err)
	}
	for _, f := range []string{tmpCheckpoint, tmpPrev, tmpTile} {
		if err := os.Remove(filepath.Join(l.dir, f)); err != nil && !os.IsNotExist(err) {
			return errors.E(errors.Internal, err)
		}
	}

	// The latest checkpoint, if any.
	haveCP := false
	if msg, err := os.ReadFile(filepath.Join(l.dir, checkpointF)); err == nil {
		cp, err := OpenCheckpoint(msg, l.opts.Verifier)
		if err != nil {
			return errors.E(errors.Internal, errors.Msg("audit checkpoint does not verify; run audit verify"), err)
		}
		l.cp, l.cpNote, haveCP = cp, msg, true
	} else if !os.IsNotExist(err) {
		return errors.E(errors.Internal, err)
	}

	// Scan the entries, cutting off a torn trailing entry.
	path := filepath.Join(l.dir, entriesFile)
	_, statErr := os.Stat(path)
	l.entriesW, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	if os.IsNotExist(statErr) {
		if err := syncDir(l.dir); err != nil {
			return errors.E(errors.Internal, err)
		}
	}
	l.entriesR, err = os.Open(path)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	n, offs, end, fileSize, err := scanEntries(l.entriesR)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	if n < l.cp.Size {
		return errors.E(errors.Internal, errors.Msg("audit log is missing entries its checkpoint covers; run audit verify"))
	}
	if !haveCP && (n > 0 || fileSize > 0) {
		// Open signs the empty tree before the first append, so entries
		// without a checkpoint mean the checkpoint was removed: signing
		// whatever the entries now say would launder a tampered log.
		return errors.E(errors.Internal, errors.Msg("audit log has entries but no checkpoint; run audit verify"))
	}
	l.bundleOff = offs

	// Rebuild the tree: trust the tiles the checkpoint covers, recompute
	// the rest from the entries.
	m0 := l.cp.Size / tileWidth * tileWidth
	if err := l.tree.rebuild(m0); err != nil {
		return errors.E(errors.Internal, errors.Msg("audit tiles are missing or damaged; run audit verify"), err)
	}
	// Nothing is changed on disk until the entries match the checkpoint:
	// replayed tiles wait in memory.
	replayed, err := l.replay(m0, n, offs, end)
	if err != nil {
		return err
	}
	l.endOff = end
	if haveCP {
		root, err := l.tree.root(l.cp.Size)
		if err != nil || root != l.cp.Hash {
			return errors.E(errors.Internal, errors.Msg("audit entries do not match the signed checkpoint; run audit verify"), err)
		}
	}
	if haveCP && n > l.cp.Size {
		l.opts.Logger.Warn("audit: integrating entries written after the last checkpoint (crash recovery)", "dir", l.dir, "entries", n-l.cp.Size)
	}
	if err := l.writeTiles(replayed); err != nil {
		return err
	}
	l.replayed = nil
	if fileSize > end {
		l.opts.Logger.Warn("audit: cutting off a torn trailing entry", "dir", l.dir, "bytes", fileSize-end)
		if err := l.entriesW.Truncate(end); err != nil {
			return errors.E(errors.Internal, err)
		}
		if err := l.entriesW.Sync(); err != nil {
			return errors.E(errors.Internal, err)
		}
	}
	l.next, l.durable = n, n
	if !haveCP || n > l.cp.Size {
		if err := l.checkpoint(); err != nil {
			return err
		}
	}
	l.lastCP = l.opts.Now()
	return nil
}

// replay hashes entries [from, to) (from a multiple of 256) into the tree
// and returns the tiles they complete, which it keeps in l.replayed (read
// by readTile) rather than writing.
func (l *Log) replay(from, to uint64, offs []int64, end int64) ([]fullTile, error) {
	if from >= to {
		return nil, nil
	}
	l.replayed = map[string][]byte{}
	start := offs[from/tileWidth]
	r := bufio.NewReaderSize(io.NewSectionReader(l.entriesR, start, end-start), 1<<20)
	var tiles []fullTile
	var lenb [2]byte
	buf := make([]byte, MaxEntrySize)
	for i := from; i < to; i++ {
		if _, err := io.ReadFull(r, lenb[:]); err != nil {
			return nil, errors.E(errors.Internal, err)
		}
		e := buf[:binary.BigEndian.Uint16(lenb[:])]
		if _, err := io.ReadFull(r, e); err != nil {
			return nil, errors.E(errors.Internal, err)
		}
		k := len(tiles)
		tiles = l.tree.appendLeaf(tlog.RecordHash(e), tiles)
		for _, t := range tiles[k:] {
			l.replayed[tilePath(t.level, t.n)] = t.data
		}
	}
	return tiles, nil
}

// scanEntries reads the framing of the entries file: the number of complete
// entries, the offsets of every 256th, the end of the last complete one,
// and the file size.
func scanEntries(f *os.File) (n uint64, offs []int64, end, size int64, err error) {
	return scanEntriesUpTo(f, 1<<63-1)
}

// scanEntriesUpTo is scanEntries stopping after limit entries.
func scanEntriesUpTo(f *os.File, limit uint64) (n uint64, offs []int64, end, size int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, 0, 0, err
	}
	size = fi.Size()
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 1<<20)
	var lenb [2]byte
	for n < limit {
		if _, err := io.ReadFull(r, lenb[:]); err != nil {
			break
		}
		k := int64(binary.BigEndian.Uint16(lenb[:]))
		if end+2+k > size {
			break
		}
		if _, err := r.Discard(int(k)); err != nil {
			return 0, nil, 0, 0, err
		}
		if n%tileWidth == 0 {
			offs = append(offs, end)
		}
		end += 2 + k
		n++
	}
	return n, offs, end, size, nil
}

func (l *Log) readTile(level int, n uint64) ([]byte, error) {
	if d, ok := l.replayed[tilePath(level, n)]; ok {
		return d, nil
	}
	return os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(tilePath(level, n))))
}

// writeTiles writes full tiles durably (fsync of the file; the directory is
// synced before the next checkpoint).
func (l *Log) writeTiles(tiles []fullTile) error {
	for _, t := range tiles {
		p := filepath.Join(l.dir, filepath.FromSlash(tilePath(t.level, t.n)))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return errors.E(errors.Internal, err)
		}
		if err := writeFileSync(filepath.Join(l.dir, tmpTile), t.data); err != nil {
			return errors.E(errors.Internal, err)
		}
		if err := os.Rename(filepath.Join(l.dir, tmpTile), p); err != nil {
			return errors.E(errors.Internal, err)
		}
		for d := filepath.Dir(p); d != l.dir && len(d) > len(l.dir); d = filepath.Dir(d) {
			l.dirtyDirs[d] = true
		}
		l.dirtyDirs[l.dir] = true
	}
	return nil
}

// checkpoint signs and durably writes a checkpoint for the whole tree,
// keeping the previous one as checkpoint.prev.
func (l *Log) checkpoint() error {
	for d := range l.dirtyDirs {
		if err := syncDir(d); err != nil {
			return errors.E(errors.Internal, err)
		}
		delete(l.dirtyDirs, d)
	}
	l.tmu.RLock()
	size := l.tree.size
	root, err := l.tree.root(size)
	l.tmu.RUnlock()
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	cp := Checkpoint{Origin: l.origin, Size: size, Hash: root}
	msg, err := SignCheckpoint(cp, l.opts.Signer)
	if err != nil {
		return err
	}
	cur := filepath.Join(l.dir, checkpointF)
	if err := writeFileSync(filepath.Join(l.dir, tmpCheckpoint), msg); err != nil {
		return errors.E(errors.Internal, err)
	}
	// At every instant "checkpoint" exists and is complete: the old one is
	// hard-linked to checkpoint.prev before the new one replaces it.
	if _, err := os.Stat(cur); err == nil {
		tp := filepath.Join(l.dir, tmpPrev)
		if err := os.Link(cur, tp); err != nil {
			return errors.E(errors.Internal, err)
		}
		if err := os.Rename(tp, filepath.Join(l.dir, prevCheckptF)); err != nil {
			return errors.E(errors.Internal, err)
		}
	}
	if err := os.Rename(filepath.Join(l.dir, tmpCheckpoint), cur); err != nil {
		return errors.E(errors.Internal, err)
	}
	if err := syncDir(l.dir); err != nil {
		return errors.E(errors.Internal, err)
	}
	l.mu.Lock()
	l.cp, l.cpNote = cp, msg
	l.mu.Unlock()
	l.lastCP = l.opts.Now()
	return nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Append implements Appender.
func (l *Log) Append(ctx context.Context, r Record) (uint64, error) {
	return l.timedAppend(ctx, r, false)
}

// AppendSync implements Appender.
func (l *Log) AppendSync(ctx context.Context, r Record) (uint64, error) {
	return l.timedAppend(ctx, r, true)
}

func (l *Log) timedAppend(ctx context.Context, r Record, sync bool) (uint64, error) {
	if l.opts.OnAppend == nil {
		return l.append(ctx, r, sync)
	}
	start := time.Now()
	idx, err := l.append(ctx, r, sync)
	l.opts.OnAppend(sync, time.Since(start), err)
	return idx, err
}

// Pending returns how many records are sequenced but not yet written: the
// writer's queue.
func (l *Log) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pendingN
}

// Healthy returns nil while appends can succeed, else why not: the log is
// closed, or a write failed (which makes every later append fail).
func (l *Log) Healthy() error {
	const op errors.Op = "audit.Healthy"
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.err != nil:
		return errors.E(op, l.err)
	case l.closed:
		return errors.E(op, errors.Unavailable, errors.Msg("audit log is closed"))
	}
	return nil
}

func (l *Log) append(ctx context.Context, r Record, sync bool) (uint64, error) {
	const op errors.Op = "audit.Append"
	if err := ctx.Err(); err != nil {
		return 0, errors.E(op, err)
	}
	if r.Time.IsZero() {
		r.Time = l.opts.Now()
	}
	r = keyLabel(l.opts.LabelKey, r)
	e, err := EncodeRecord(r)
	if err != nil {
		return 0, errors.E(op, err)
	}
	l.mu.Lock()
	for {
		if l.err != nil {
			err := l.err
			l.mu.Unlock()
			return 0, errors.E(op, err)
		}
		if l.closed {
			l.mu.Unlock()
			return 0, errors.E(op, errors.Unavailable, errors.Msg("audit log is closed"))
		}
		if l.pendingN < l.opts.MaxPending {
			break
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, errors.E(op, ctx.Err())
		}
		l.mu.Lock()
	}
	idx := l.next
	l.next++
	l.pending = binary.BigEndian.AppendUint16(l.pending, uint16(len(e)))
	l.pending = append(l.pending, e...)
	l.pendingN++
	if sync {
		l.syncWanted = true
	}
	wake := sync || l.pendingN >= l.opts.MaxPending/4
	l.mu.Unlock()
	if wake {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	if !sync {
		return idx, nil
	}
	for {
		l.mu.Lock()
		err, covered, ch := l.err, l.cp.Size > idx, l.changed
		l.mu.Unlock()
		switch {
		case covered:
			return idx, nil
		case err != nil:
			return 0, errors.E(op, err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			// The entry may still be written; the caller must treat the
			// action as failed.
			return 0, errors.E(op, ctx.Err())
		}
	}
}

// notify wakes everyone waiting for a change. l.mu must be held.
func (l *Log) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// run is the writer goroutine: group commit of pending entries.
func (l *Log) run() {
	defer close(l.done)
	tick := time.NewTicker(l.opts.FlushInterval)
	defer tick.Stop()
	for {
		quitting := false
		select {
		case <-l.kick:
		case <-tick.C:
		case <-l.quit:
			quitting = true
		}
		l.mu.Lock()
		buf, n, syncWanted, broken := l.pending, l.pendingN, l.syncWanted, l.err != nil
		l.pending, l.pendingN, l.syncWanted = l.spare[:0], 0, false
		l.mu.Unlock()
		if !broken {
			err := l.commit(buf, n)
			if err == nil {
				l.mu.Lock()
				stale := l.cp.Size < l.durable
				l.mu.Unlock()
				if stale && (syncWanted || quitting || l.opts.Now().Sub(l.lastCP) >= l.opts.CheckpointInterval) {
					err = l.checkpoint()
				}
			}
			l.mu.Lock()
			if err != nil {
				l.opts.Logger.Error("audit: log write failed; refusing further appends", "dir", l.dir, "err", err)
				l.err = errors.E(errors.Unavailable, errors.Msg("audit log cannot be written"), err)
			}
			l.notify()
			l.mu.Unlock()
		}
		l.spare = buf[:0]
		if quitting {
			return
		}
	}
}

// commit writes framed entries, fsyncs them and integrates them into the
// tree.
func (l *Log) commit(buf []byte, n int) error {
	if n == 0 {
		return nil
	}
	if _, err := l.entriesW.WriteAt(buf, l.endOff); err != nil {
		return errors.E(errors.Internal, err)
	}
	if l.failHook != nil {
		if err := l.failHook(); err != nil {
			return errors.E(errors.Internal, err)
		}
	}
	if err := l.entriesW.Sync(); err != nil {
		return errors.E(errors.Internal, err)
	}
	l.tmu.Lock()
	defer l.tmu.Unlock()
	var tiles []fullTile
	off := l.endOff
	for p := 0; p < len(buf); {
		k := int(binary.BigEndian.Uint16(buf[p:]))
		e := buf[p+2 : p+2+k]
		if l.tree.size%tileWidth == 0 {
			l.bundleOff = append(l.bundleOff, off+int64(p))
		}
		tiles = l.tree.appendLeaf(tlog.RecordHash(e), tiles)
		p += 2 + k
	}
	if err := l.writeTiles(tiles); err != nil {
		return err
	}
	l.endOff += int64(len(buf))
	l.mu.Lock()
	l.durable = l.tree.size
	l.mu.Unlock()
	return nil
}

// Close flushes every sequenced entry, writes a final checkpoint and
// releases the directory. It returns the error that made the log fail, if
// any.
func (l *Log) Close() error {
	const op errors.Op = "audit.Close"
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	l.closeFiles()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return errors.E(op, l.err)
	}
	return nil
}

func (l *Log) closeFiles() {
	for _, f := range []*os.File{l.entriesW, l.entriesR, l.lock} {
		if f != nil {
			f.Close()
		}
	}
}

// keyLabel replaces r's label by its keyed hash.
func keyLabel(k LabelKey, r Record) Record {
	if r.Label != nil {
		r.LabelHash, r.Label = k.Sum(r, r.Label), nil
	}
	return r
}

// LabelMatches reports whether rec was recorded about an object labelled
// label (in canonical binary form); see LabelKey.Matches.
func (l *Log) LabelMatches(rec Record, label []byte) bool {
	return l.opts.LabelKey.Matches(rec, label)
}

// Origin returns the log's origin (its key name).
func (l *Log) Origin() string { return l.origin }

// Checkpoint returns the latest durable checkpoint and its signed note.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, []byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cp, append([]byte(nil), l.cpNote...), nil
}

// Size implements Reader: the number of durable, integrated entries.
func (l *Log) Size(ctx context.Context) (uint64, error) {
	l.tmu.RLock()
	defer l.tmu.RUnlock()
	return l.tree.size, nil
}

// Entry returns the raw bytes of entry index.
func (l *Log) Entry(ctx context.Context, index uint64) ([]byte, error) {
	es, err := l.entries(ctx, index, index+1)
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// entries returns the raw entries [lo, hi).
func (l *Log) entries(ctx context.Context, lo, hi uint64) ([][]byte, error) {
	const op errors.Op = "audit.Get"
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, err)
	}
	l.tmu.RLock()
	if hi > l.tree.size || lo > hi {
		l.tmu.RUnlock()
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such audit entry"))
	}
	if lo == hi {
		l.tmu.RUnlock()
		return nil, nil
	}
	offs, endOff := l.bundleOff, l.endOff
	l.tmu.RUnlock()
	out, err := readEntries(l.entriesR, offs, endOff, lo, hi)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// readEntries reads entries [lo, hi) (lo < hi, both within the entries
// that offs and endOff describe) from the entries file f.
func readEntries(f *os.File, offs []int64, endOff int64, lo, hi uint64) ([][]byte, error) {
	start, end := offs[lo/tileWidth], endOff
	if b := (hi + tileWidth - 1) / tileWidth; b < uint64(len(offs)) {
		end = offs[b]
	}
	data := make([]byte, end-start)
	if _, err := f.ReadAt(data, start); err != nil {
		return nil, errors.E(errors.Internal, err)
	}
	out := make([][]byte, 0, hi-lo)
	i := lo / tileWidth * tileWidth
	for p := 0; i < hi; i++ {
		if p+2 > len(data) {
			return nil, errors.E(errors.Internal, errors.Msg("audit entries file is damaged"))
		}
		k := int(binary.BigEndian.Uint16(data[p:]))
		if p+2+k > len(data) {
			return nil, errors.E(errors.Internal, errors.Msg("audit entries file is damaged"))
		}
		if i >= lo {
			out = append(out, data[p+2:p+2+k])
		}
		p += 2 + k
	}
	return out, nil
}

// Get implements Reader.
func (l *Log) Get(ctx context.Context, index uint64) (Record, error) {
	e, err := l.Entry(ctx, index)
	if err != nil {
		return Record{}, err
	}
	return DecodeRecord(e)
}

// Tail implements Reader.
func (l *Log) Tail(ctx context.Context, n int) ([]Entry, error) {
	size, _ := l.Size(ctx)
	if n <= 0 {
		return nil, nil
	}
	lo := uint64(0)
	if uint64(n) < size {
		lo = size - uint64(n)
	}
	return l.Range(ctx, lo, size)
}

// ProveInclusion returns the RFC 6962 inclusion proof of entry index in the
// tree of the given size (size ≤ Size), for VerifyInclusion.
func (l *Log) ProveInclusion(ctx context.Context, index, size uint64) ([]tlog.Hash, error) {
	const op errors.Op = "audit.ProveInclusion"
	l.tmu.RLock()
	defer l.tmu.RUnlock()
	if index >= size || size > l.tree.size {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such audit entry in that tree"))
	}
	p, err := tlog.ProveRecord(int64(size), int64(index), &l.tree)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return p, nil
}

// ProveConsistency returns the RFC 6962 consistency proof between the trees
// of sizes oldSize ≤ newSize ≤ Size, for VerifyConsistency.
func (l *Log) ProveConsistency(ctx context.Context, oldSize, newSize uint64) ([]tlog.Hash, error) {
	const op errors.Op = "audit.ProveConsistency"
	l.tmu.RLock()
	defer l.tmu.RUnlock()
	if oldSize > newSize || newSize > l.tree.size {
		return nil, errors.E(op, errors.Invalid, errors.Msg("bad tree sizes"))
	}
	if oldSize == 0 || oldSize == newSize {
		return nil, nil
	}
	p, err := tlog.ProveTree(int64(newSize), int64(oldSize), &l.tree)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return p, nil
}

// Backend is what a Genesis server holds: either the log in one data
// directory (*Log) or the log shared by every replica through the
// metadata store (*StoreLog).
type Backend interface {
	Interface
	// Range returns entries [lo, hi) with their indexes.
	Range(ctx context.Context, lo, hi uint64) ([]Entry, error)
	// Entry returns the raw bytes of an entry.
	Entry(ctx context.Context, index uint64) ([]byte, error)
	// Checkpoint returns the latest signed checkpoint and its note.
	Checkpoint(ctx context.Context) (Checkpoint, []byte, error)
	ProveInclusion(ctx context.Context, index, size uint64) ([]tlog.Hash, error)
	ProveConsistency(ctx context.Context, oldSize, newSize uint64) ([]tlog.Hash, error)
	// ReadTile serves the log in the C2SP tlog-tiles layout.
	ReadTile(ctx context.Context, path string) ([]byte, error)
	LabelMatches(rec Record, label []byte) bool
	Origin() string
	// Pending is the number of appends queued for the writer.
	Pending() int
	// Healthy is nil while appends can succeed.
	Healthy() error
	Close() error
}

var _ Backend = (*Log)(nil)
