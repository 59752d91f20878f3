package audit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"golang.org/x/mod/sumdb/tlog"
)

// StoreLog is the audit log shared by every replica: entries, full hash
// tiles and the signed checkpoint live in the metadata store's database
// (tables audit_entries, audit_tiles, audit_head; migration 0033), so
// appends from every process that opens it go into one ordered log.
//
// Sequencing happens in the database. Each StoreLog has one writer
// goroutine doing group commit: the appends that arrive while a batch is
// being committed form the next batch, and a batch is ONE transaction that
// locks the head row, catches this replica's tree up with what other
// replicas appended, inserts the entries after the head's size and the
// tiles they complete, signs a checkpoint covering them and stores it in
// the head (keeping the previous one). The database therefore never holds
// entries that no signed checkpoint covers, and the tree size, entries,
// tiles and checkpoint change together or not at all.
//
// Both Append and AppendSync return only once the entry is committed AND
// covered by a signed checkpoint (the index is only known when the
// database has sequenced it), so "on the record before acknowledged" holds
// on every replica. A batch that cannot be committed fails every append in
// it, and the next batch tries again: failures are not sticky, because the
// database may come back; Healthy reports whether it answers now.
type StoreLog struct {
	db     store.DB
	opts   Options
	origin string

	mu      sync.Mutex
	queue   []*storeAppend
	closed  bool
	changed chan struct{} // closed and replaced when the queue shrinks
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}

	// tmu guards the tree (this replica's copy of the shared Merkle
	// state, at size cp.Size) and the tile reading state below.
	tmu  sync.RWMutex
	tree tree
	cp   Checkpoint
	// During a transaction that changes the tree (a batch or a catch-up),
	// tiles are read through tx and the batch's new tiles are in fresh.
	tx    store.Tx
	txCtx context.Context
	fresh map[tileKey][]byte

	cmu   sync.Mutex
	cache map[tileKey][]byte // committed tiles (immutable)

	// batchHook, if set (by tests), is called inside each batch's
	// transaction after its entries are inserted; an error rolls the
	// batch back as a crash before commit would.
	batchHook func(first uint64, n int) error
}

type tileKey struct {
	level int
	n     uint64
}

type storeAppend struct {
	data []byte
	done chan storeResult
}

type storeResult struct {
	idx uint64
	err error
}

var _ Backend = (*StoreLog)(nil)

const (
	// maxStoreBatch bounds the entries one transaction inserts.
	maxStoreBatch = 2048
	// rowsPerInsert bounds the rows of one multi-row INSERT.
	rowsPerInsert = 256
	// catchUpReplay is how far behind the head a replica's tree may be
	// for it to catch up by re-hashing entries; beyond it the tree is
	// rebuilt from the stored tiles.
	catchUpReplay = 4096
	// tileCacheMax bounds the cached tiles (8 KiB each).
	tileCacheMax = 1024
	// storeTimeout bounds one batch transaction, so that an unreachable
	// database fails appends rather than hanging them.
	storeTimeout = 30 * time.Second
)

// OpenStore opens the shared audit log in db (migrated to 0033 or later),
// creating it — an empty tree with a signed checkpoint — if it is empty.
// It refuses a log whose checkpoint was signed by another key, or whose
// stored tiles and entries do not match its checkpoint (run VerifyStore).
// Of the Options, FlushInterval and CheckpointInterval do not apply (every
// batch is committed and checkpointed at once, with no timer); MaxPending
// bounds the appends queued for the writer. The caller keeps db open until
// Close returns.
func OpenStore(ctx context.Context, db store.DB, opts Options) (*StoreLog, error) {
	const op errors.Op = "audit.OpenStore"
	if err := opts.check(); err != nil {
		return nil, errors.E(op, err)
	}
	l := &StoreLog{
		db: db, opts: opts, origin: opts.Signer.Name(),
		changed: make(chan struct{}), kick: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
		cache: map[tileKey][]byte{},
	}
	l.tree.readTile = l.readTile
	l.cp = Checkpoint{Origin: l.origin, Hash: emptyRoot()}
	empty, err := SignCheckpoint(l.cp, opts.Signer)
	if err != nil {
		return nil, errors.E(op, err)
	}
	err = db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_head (id, size, checkpoint) VALUES (1, 0, ?) ON CONFLICT (id) DO NOTHING`, empty)
		return err
	})
	if err != nil {
		return nil, errors.E(op, errors.Unavailable, errors.Msg("cannot create the shared audit log"), err)
	}
	if _, err := l.refresh(ctx); err != nil {
		return nil, errors.E(op, err)
	}
	go l.run()
	return l, nil
}

func emptyRoot() tlog.Hash {
	r, _ := tlog.TreeHash(0, nil)
	return r
}

// head is the audit_head row.
type head struct {
	size uint64
	note []byte
	cp   Checkpoint
}

// readHead reads and checks the head row; lock takes the row lock
// (PostgreSQL; a SQLite write transaction already excludes other writers).
func (l *StoreLog) readHead(ctx context.Context, tx store.Tx, lock bool) (head, error) {
	q := `SELECT size, checkpoint FROM audit_head WHERE id = 1`
	if lock && tx.Dialect() == store.Postgres {
		q += ` FOR UPDATE`
	}
	var h head
	var size int64
	if err := tx.QueryRow(ctx, q).Scan(&size, &h.note); err != nil {
		if errors.Is(errors.NotExist, err) {
			return h, errors.E(errors.Internal, errors.Msg("the shared audit log has no head row; was it created?"), err)
		}
		return h, errors.E(errors.Unavailable, errors.Msg("cannot read the shared audit log"), err)
	}
	cp, err := OpenCheckpoint(h.note, l.opts.Verifier)
	if err != nil {
		return h, errors.E(errors.Internal, errors.Msg("the shared audit log's checkpoint does not verify with this key; run audit verify"), err)
	}
	if size < 0 || uint64(size) != cp.Size {
		return h, errors.E(errors.Internal, errors.Msg("the shared audit log's size does not match its checkpoint; run audit verify"))
	}
	h.size, h.cp = uint64(size), cp
	return h, nil
}

// catchUp brings the tree to the head's size, checking that the result
// has the head's signed root. l.tmu must be held for writing and l.tx set.
func (l *StoreLog) catchUp(ctx context.Context, tx store.Tx, h head) error {
	switch {
	case h.size < l.tree.size:
		return errors.E(errors.Internal, errors.Msg("the shared audit log is smaller than this replica has seen: rolled back? run audit verify"))
	case h.size == l.tree.size:
		if l.tree.size != l.cp.Size || l.cp.Hash != h.cp.Hash {
			return errors.E(errors.Internal, errors.Msg("the shared audit log's checkpoint changed at the same size: rewritten? run audit verify"))
		}
		return nil
	}
	from := l.tree.size
	if h.size-from > catchUpReplay || from == 0 && h.size > 0 {
		from = h.size / tileWidth * tileWidth
		if err := l.tree.rebuild(from); err != nil {
			return errors.E(errors.Internal, errors.Msg("the shared audit log's tiles are missing or damaged; run audit verify"), err)
		}
	}
	if from < h.size {
		es, err := readStoreEntries(ctx, tx, from, h.size)
		if err != nil {
			return err
		}
		// The tiles these entries complete were written by whoever
		// appended them; tile reads find them in the database.
		for _, e := range es {
			l.tree.appendLeaf(tlog.RecordHash(e), nil)
		}
	}
	root, err := l.tree.root(h.size)
	if err != nil || root != h.cp.Hash {
		return errors.E(errors.Internal, errors.Msg("the shared audit log's entries do not match its signed checkpoint; run audit verify"), err)
	}
	l.cp = h.cp
	return nil
}

// readStoreEntries reads entries [lo, hi), all of which must exist.
func readStoreEntries(ctx context.Context, tx store.Tx, lo, hi uint64) ([][]byte, error) {
	rows, err := tx.Query(ctx, `SELECT idx, data FROM audit_entries WHERE idx >= ? AND idx < ? ORDER BY idx`, int64(lo), int64(hi))
	if err != nil {
		return nil, errors.E(errors.Unavailable, errors.Msg("cannot read the shared audit log"), err)
	}
	defer rows.Close()
	out := make([][]byte, 0, hi-lo)
	for rows.Next() {
		var idx int64
		var data []byte
		if err := rows.Scan(&idx, &data); err != nil {
			return nil, errors.E(errors.Unavailable, errors.Msg("cannot read the shared audit log"), err)
		}
		if uint64(idx) != lo+uint64(len(out)) {
			return nil, errors.E(errors.Internal, errors.Msg("the shared audit log is missing entries its checkpoint covers; run audit verify"))
		}
		out = append(out, data)
	}
	if err := rows.Err(); err != nil {
		return nil, errors.E(errors.Unavailable, errors.Msg("cannot read the shared audit log"), err)
	}
	if uint64(len(out)) != hi-lo {
		return nil, errors.E(errors.Internal, errors.Msg("the shared audit log is missing entries its checkpoint covers; run audit verify"))
	}
	return out, nil
}

// readTile is the tree's tile reader: tiles of the batch being committed,
// the cache, then the database (through the transaction in progress).
func (l *StoreLog) readTile(level int, n uint64) ([]byte, error) {
	k := tileKey{level, n}
	if d, ok := l.fresh[k]; ok {
		return d, nil
	}
	l.cmu.Lock()
	d, ok := l.cache[k]
	l.cmu.Unlock()
	if ok {
		return d, nil
	}
	get := func(ctx context.Context, tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT data FROM audit_tiles WHERE level = ? AND n = ?`, level, int64(n)).Scan(&d)
	}
	var err error
	if l.tx != nil {
		err = get(l.txCtx, l.tx)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err = l.db.View(ctx, func(tx store.Tx) error { return get(ctx, tx) })
		cancel()
	}
	if err != nil {
		return nil, err
	}
	l.cacheTile(k, d)
	return d, nil
}

func (l *StoreLog) cacheTile(k tileKey, d []byte) {
	l.cmu.Lock()
	if len(l.cache) >= tileCacheMax {
		clear(l.cache)
	}
	l.cache[k] = d
	l.cmu.Unlock()
}

// refresh reads the head and, if other replicas have appended, catches
// the tree up. It returns the head. Locks are taken in one order
// everywhere — tmu, then a database connection — so that readers waiting
// for the tree never hold the connections the writer needs.
func (l *StoreLog) refresh(ctx context.Context) (head, error) {
	const op errors.Op = "audit.StoreLog"
	var h head
	err := l.db.View(ctx, func(tx store.Tx) error {
		var err error
		h, err = l.readHead(ctx, tx, false)
		return err
	})
	if err != nil {
		return h, errors.E(op, err)
	}
	l.tmu.RLock()
	current := l.tree.size > h.size || l.tree.size == h.size && l.cp.Hash == h.cp.Hash
	l.tmu.RUnlock()
	if current {
		return h, nil
	}
	l.tmu.Lock()
	defer l.tmu.Unlock()
	err = l.db.View(ctx, func(tx store.Tx) error {
		// The head again, under tmu: the writer may have moved on.
		cur, err := l.readHead(ctx, tx, false)
		if err != nil {
			return err
		}
		h = cur
		if h.size < l.tree.size {
			return nil
		}
		saved, savedCP := l.tree.clone(), l.cp
		l.tx, l.txCtx = tx, ctx
		defer func() { l.tx, l.txCtx = nil, nil }()
		if err := l.catchUp(ctx, tx, h); err != nil {
			l.tree, l.cp = saved, savedCP
			return err
		}
		return nil
	})
	if err != nil {
		return h, errors.E(op, err)
	}
	return h, nil
}

// Append implements Appender. On a StoreLog it is AppendSync: it returns
// once the entry is committed and covered by a signed checkpoint.
func (l *StoreLog) Append(ctx context.Context, r Record) (uint64, error) {
	return l.timedAppend(ctx, r, false)
}

// AppendSync implements Appender.
func (l *StoreLog) AppendSync(ctx context.Context, r Record) (uint64, error) {
	return l.timedAppend(ctx, r, true)
}

func (l *StoreLog) timedAppend(ctx context.Context, r Record, sync bool) (uint64, error) {
	if l.opts.OnAppend == nil {
		return l.append(ctx, r)
	}
	start := time.Now()
	idx, err := l.append(ctx, r)
	l.opts.OnAppend(sync, time.Since(start), err)
	return idx, err
}

func (l *StoreLog) append(ctx context.Context, r Record) (uint64, error) {
	const op errors.Op = "audit.Append"
	if err := ctx.Err(); err != nil {
		return 0, errors.E(op, err)
	}
	if r.Time.IsZero() {
		r.Time = l.opts.Now()
	}
	e, err := EncodeRecord(keyLabel(l.opts.LabelKey, r))
	if err != nil {
		return 0, errors.E(op, err)
	}
	a := &storeAppend{data: e, done: make(chan storeResult, 1)}
	l.mu.Lock()
	for {
		if l.closed {
			l.mu.Unlock()
			return 0, errors.E(op, errors.Unavailable, errors.Msg("audit log is closed"))
		}
		if len(l.queue) < l.opts.MaxPending {
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
	l.queue = append(l.queue, a)
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	select {
	case res := <-a.done:
		if res.err != nil {
			return 0, errors.E(op, res.err)
		}
		return res.idx, nil
	case <-ctx.Done():
		// The entry may still be committed; the caller must treat the
		// action as failed.
		return 0, errors.E(op, ctx.Err())
	}
}

// run is the writer goroutine: group commit of the queued appends.
func (l *StoreLog) run() {
	defer close(l.done)
	for {
		quitting := false
		select {
		case <-l.kick:
		case <-l.quit:
			quitting = true
		}
		for {
			l.mu.Lock()
			n := min(len(l.queue), maxStoreBatch)
			batch := l.queue[:n:n]
			l.queue = l.queue[n:]
			if len(l.queue) == 0 {
				l.queue = nil
			}
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
			if n == 0 {
				break
			}
			data := make([][]byte, n)
			for i, a := range batch {
				data[i] = a.data
			}
			first, err := l.commit(data, anyPosition)
			if err != nil {
				l.opts.Logger.Error("audit: cannot commit to the shared audit log; refusing these appends", "entries", n, "err", err)
				err = errors.E(errors.Unavailable, errors.Msg("audit log cannot be written"), err)
			}
			for i, a := range batch {
				a.done <- storeResult{idx: first + uint64(i), err: err}
			}
		}
		if quitting {
			return
		}
	}
}

// anyPosition is commit's at for appends, which go wherever the log ends.
const anyPosition = -1

// commit appends entries in one transaction and returns the first's index.
// If at is not anyPosition, the log must hold exactly at entries (Import
// copies into a log no one else appends to); otherwise it refuses with
// Conflict and writes nothing.
func (l *StoreLog) commit(entries [][]byte, at int64) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	l.tmu.Lock()
	defer l.tmu.Unlock()
	saved, savedCP := l.tree.clone(), l.cp
	var first uint64
	var cp Checkpoint
	err := l.db.Update(ctx, func(tx store.Tx) error {
		// Update may run this again after a conflict: start afresh.
		l.tree, l.cp = saved.clone(), savedCP
		l.fresh = map[tileKey][]byte{}
		l.tx, l.txCtx = tx, ctx
		defer func() { l.tx, l.txCtx = nil, nil }()
		if tx.Dialect() == store.Postgres {
			// The head row lock orders the batches; at READ COMMITTED the
			// statements after it see what the previous holder committed
			// (at SERIALIZABLE the lock wait would end in a conflict).
			if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL READ COMMITTED`); err != nil {
				return err
			}
		}
		h, err := l.readHead(ctx, tx, true)
		if err != nil {
			return err
		}
		if err := l.catchUp(ctx, tx, h); err != nil {
			return err
		}
		first = l.tree.size
		if at != anyPosition && first != uint64(at) {
			return errors.E(errors.Conflict, errors.Msg(fmt.Sprintf("the shared audit log holds %d entries, not %d: is a replica appending to it?", first, at)))
		}
		var tiles []fullTile
		for _, e := range entries {
			tiles = l.tree.appendLeaf(tlog.RecordHash(e), tiles)
		}
		for _, t := range tiles {
			l.fresh[tileKey{t.level, t.n}] = t.data
		}
		for lo := 0; lo < len(entries); lo += rowsPerInsert {
			hi := min(lo+rowsPerInsert, len(entries))
			args := make([]any, 0, 2*(hi-lo))
			for i := lo; i < hi; i++ {
				args = append(args, int64(first)+int64(i), entries[i])
			}
			if _, err := tx.Exec(ctx, `INSERT INTO audit_entries (idx, data) VALUES `+store.RowsOf(hi-lo, 2), args...); err != nil {
				return err
			}
		}
		if l.batchHook != nil {
			if err := l.batchHook(first, len(entries)); err != nil {
				return err
			}
		}
		for _, t := range tiles {
			if _, err := tx.Exec(ctx, `INSERT INTO audit_tiles (level, n, data) VALUES (?, ?, ?)`, t.level, int64(t.n), t.data); err != nil {
				return err
			}
		}
		root, err := l.tree.root(l.tree.size)
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		cp = Checkpoint{Origin: l.origin, Size: l.tree.size, Hash: root}
		msg, err := SignCheckpoint(cp, l.opts.Signer)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE audit_head SET prev = checkpoint, checkpoint = ?, size = ? WHERE id = 1`, msg, int64(cp.Size))
		return err
	})
	fresh := l.fresh
	l.fresh = nil
	if err != nil {
		// Whatever happened, the tree must not run ahead of the database;
		// if the commit did happen, the next catch-up integrates it.
		l.tree, l.cp = saved, savedCP
		return 0, err
	}
	l.cp = cp
	for k, d := range fresh {
		l.cacheTile(k, d)
	}
	return first, nil
}

// clone returns a deep copy of the tree's in-memory state.
func (t *tree) clone() tree {
	c := tree{size: t.size, readTile: t.readTile, full: append([]uint64(nil), t.full...)}
	c.rows = make([][]tlog.Hash, len(t.rows))
	for i, r := range t.rows {
		c.rows[i] = append(make([]tlog.Hash, 0, tileWidth), r...)
	}
	return c
}

// Pending returns how many appends wait for a batch.
func (l *StoreLog) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// Healthy returns nil while the shared log can be appended to: it is open
// and its head can be read from the database and verifies.
func (l *StoreLog) Healthy() error {
	const op errors.Op = "audit.Healthy"
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return errors.E(op, errors.Unavailable, errors.Msg("audit log is closed"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := l.db.View(ctx, func(tx store.Tx) error {
		_, err := l.readHead(ctx, tx, false)
		return err
	})
	if err != nil {
		return errors.E(op, errors.Unavailable, errors.Msg("the shared audit log cannot be reached"), err)
	}
	return nil
}

// Close commits what is queued and stops the writer. It does not close
// the database.
func (l *StoreLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	return nil
}

// LabelMatches is Log.LabelMatches.
func (l *StoreLog) LabelMatches(rec Record, label []byte) bool {
	return l.opts.LabelKey.Matches(rec, label)
}

// Origin returns the log's origin (its key name).
func (l *StoreLog) Origin() string { return l.origin }

// Checkpoint returns the shared log's latest checkpoint and its signed note.
func (l *StoreLog) Checkpoint(ctx context.Context) (Checkpoint, []byte, error) {
	h, err := l.refresh(ctx)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	return h.cp, h.note, nil
}

// Size implements Reader: the size of the latest checkpoint.
func (l *StoreLog) Size(ctx context.Context) (uint64, error) {
	const op errors.Op = "audit.Size"
	var size int64
	err := l.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT size FROM audit_head WHERE id = 1`).Scan(&size)
	})
	if err != nil {
		return 0, errors.E(op, errors.Unavailable, errors.Msg("cannot read the shared audit log"), err)
	}
	return uint64(size), nil
}

// entries returns the raw entries [lo, hi), NotExist beyond the head.
func (l *StoreLog) entries(ctx context.Context, lo, hi uint64) ([][]byte, error) {
	const op errors.Op = "audit.Get"
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, err)
	}
	var out [][]byte
	err := l.db.View(ctx, func(tx store.Tx) error {
		var size int64
		if err := tx.QueryRow(ctx, `SELECT size FROM audit_head WHERE id = 1`).Scan(&size); err != nil {
			return errors.E(errors.Unavailable, errors.Msg("cannot read the shared audit log"), err)
		}
		if hi > uint64(size) || lo > hi {
			return errors.E(errors.NotExist, errors.Msg("no such audit entry"))
		}
		if lo == hi {
			return nil
		}
		var err error
		out, err = readStoreEntries(ctx, tx, lo, hi)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// Entry returns the raw bytes of entry index.
func (l *StoreLog) Entry(ctx context.Context, index uint64) ([]byte, error) {
	es, err := l.entries(ctx, index, index+1)
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// Get implements Reader.
func (l *StoreLog) Get(ctx context.Context, index uint64) (Record, error) {
	e, err := l.Entry(ctx, index)
	if err != nil {
		return Record{}, err
	}
	return DecodeRecord(e)
}

// Range is Log.Range.
func (l *StoreLog) Range(ctx context.Context, lo, hi uint64) ([]Entry, error) {
	raw, err := l.entries(ctx, lo, hi)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(raw))
	for i, e := range raw {
		r, err := DecodeRecord(e)
		if err != nil {
			return nil, err
		}
		out[i] = Entry{Index: lo + uint64(i), Record: r}
	}
	return out, nil
}

// Tail implements Reader.
func (l *StoreLog) Tail(ctx context.Context, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	size, err := l.Size(ctx)
	if err != nil {
		return nil, err
	}
	lo := uint64(0)
	if uint64(n) < size {
		lo = size - uint64(n)
	}
	return l.Range(ctx, lo, size)
}

// atLeast makes the tree cover size entries, refreshing it if needed.
func (l *StoreLog) atLeast(ctx context.Context, size uint64) error {
	l.tmu.RLock()
	ok := l.tree.size >= size
	l.tmu.RUnlock()
	if ok {
		return nil
	}
	h, err := l.refresh(ctx)
	if err != nil {
		return err
	}
	if h.size < size {
		return errors.E(errors.NotExist, errors.Msg("no such audit entry in that tree"))
	}
	return nil
}

// ProveInclusion is Log.ProveInclusion on the shared log.
func (l *StoreLog) ProveInclusion(ctx context.Context, index, size uint64) ([]tlog.Hash, error) {
	const op errors.Op = "audit.ProveInclusion"
	if index >= size {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such audit entry in that tree"))
	}
	if err := l.atLeast(ctx, size); err != nil {
		return nil, errors.E(op, err)
	}
	l.tmu.RLock()
	defer l.tmu.RUnlock()
	p, err := tlog.ProveRecord(int64(size), int64(index), &l.tree)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return p, nil
}

// ProveConsistency is Log.ProveConsistency on the shared log.
func (l *StoreLog) ProveConsistency(ctx context.Context, oldSize, newSize uint64) ([]tlog.Hash, error) {
	const op errors.Op = "audit.ProveConsistency"
	if oldSize > newSize {
		return nil, errors.E(op, errors.Invalid, errors.Msg("bad tree sizes"))
	}
	if err := l.atLeast(ctx, newSize); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("bad tree sizes"), err)
	}
	if oldSize == 0 || oldSize == newSize {
		return nil, nil
	}
	l.tmu.RLock()
	defer l.tmu.RUnlock()
	p, err := tlog.ProveTree(int64(newSize), int64(oldSize), &l.tree)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return p, nil
}

// ReadTile is Log.ReadTile for the shared log's latest checkpoint.
func (l *StoreLog) ReadTile(ctx context.Context, path string) ([]byte, error) {
	h, err := l.refresh(ctx)
	if err != nil {
		return nil, errors.E("audit.ReadTile", err)
	}
	l.tmu.RLock()
	defer l.tmu.RUnlock()
	return serveTile(path, h.size, h.note, &l.tree, func(lo, hi uint64) ([][]byte, error) {
		return l.entries(ctx, lo, hi)
	})
}
