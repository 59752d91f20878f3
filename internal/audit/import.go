package audit

import (
	"context"
	"crypto/hmac"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ImportAction is the action of the record Import appends after the
// copied entries: its object is the source log (ObjectType "audit_log",
// ObjectID its origin) and its Detail is ImportDetail.
const ImportAction = "audit.import"

// ImportPrincipal is the principal of the import record: Import runs
// offline, on behalf of the operator who runs it.
const ImportPrincipal = "genesis-audit-import"

// importObjectType is the object type of the import record.
const importObjectType = "audit_log"

// importBatchBytes bounds the entry bytes of one import transaction (and
// maxStoreBatch the entries).
const importBatchBytes = 8 << 20

// ImportReport is the outcome of StoreLog.Import.
type ImportReport struct {
	// Source is the source log's checkpoint, SourceNote its signed note.
	Source     Checkpoint
	SourceNote []byte
	// Target is the shared log's checkpoint when Import returned, which
	// covers the import record; TargetNote is its signed note.
	Target     Checkpoint
	TargetNote []byte
	// Found counts the source's entries that an earlier, interrupted run
	// had already copied; Copied those this run copied.
	Found, Copied uint64
	// Record is the index of the import record (Source.Size).
	Record uint64
	// AlreadyDone is set when an earlier run had finished the import;
	// this run wrote nothing.
	AlreadyDone bool
}

// ImportDetail is the Detail of the import record of a source log whose
// checkpoint is cp (signed note msg): a first line naming the origin, the
// size and the root, then the source's signed checkpoint as it was, so
// that whoever holds the source's verifier key can check it.
func ImportDetail(cp Checkpoint, msg []byte) string {
	return fmt.Sprintf("imported from %s at size %d, root %s\n%s", cp.Origin, cp.Size, cp.Hash, msg)
}

// ImportSource is a file log opened for StoreLog.Import: locked (no
// process can append to it until Close), verified, and read at its
// checkpoint.
type ImportSource struct {
	labelKey LabelKey
	unlock   func()
	snap     *Snapshot
}

// OpenImportSource opens the audit log in the directory dir (a file log,
// Log, whose checkpoints verify with v; labelKey is its label key) for
// Import. It writes nothing. It holds the log's lock, so no process may
// have it open, and checks it as Verify does (every entry, tile and
// checkpoint signature); a log that does not verify, or holds entries
// after its checkpoint (left by a crash, integrated when a Log next opens
// it), is refused.
func OpenImportSource(ctx context.Context, dir string, v note.Verifier, labelKey LabelKey) (*ImportSource, error) {
	const op errors.Op = "audit.OpenImportSource"
	if len(labelKey) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("the source log's label key is needed"))
	}
	unlock, err := lockSource(dir)
	if err != nil {
		return nil, errors.E(op, err)
	}
	src, err := openImportSource(ctx, dir, v)
	if err != nil {
		unlock()
		return nil, errors.E(op, err)
	}
	src.labelKey, src.unlock = labelKey, unlock
	return src, nil
}

func openImportSource(ctx context.Context, dir string, v note.Verifier) (*ImportSource, error) {
	vrep, err := Verify(ctx, dir, v)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if ps := vrep.Problems; len(ps) > 0 {
			msg := strings.Join(ps[:min(len(ps), 3)], "; ")
			if len(ps) > 3 {
				msg += fmt.Sprintf("; and %d more (run audit verify on it)", len(ps)-3)
			}
			return nil, errors.E(errors.Invalid, errors.Msg("the source audit log does not verify: "+msg))
		}
		return nil, errors.E(errors.Invalid, errors.Msg("cannot read the source audit log"), err)
	}
	if vrep.Pending > 0 || vrep.TornBytes > 0 {
		return nil, errors.E(errors.Invalid, errors.Msg(fmt.Sprintf(
			"the source audit log has %d entries (and %d torn bytes) after its checkpoint, left by a crash: start and stop genesis once on its data dir so they are checkpointed, then import",
			vrep.Pending, vrep.TornBytes)))
	}
	snap, err := OpenSnapshot(ctx, dir, v)
	if err != nil {
		return nil, errors.E(errors.Invalid, errors.Msg("cannot read the source audit log"), err)
	}
	if cp, _ := snap.Checkpoint(); cp != vrep.Checkpoint {
		snap.Close()
		return nil, errors.E(errors.Conflict, errors.Msg("the source audit log changed while it was verified"))
	}
	return &ImportSource{snap: snap}, nil
}

// Checkpoint returns the source's checkpoint and its signed note.
func (s *ImportSource) Checkpoint() (Checkpoint, []byte) { return s.snap.Checkpoint() }

// CheckLabelKey refuses a target label key other than the source's: the
// copied label hashes are keyed with the source's and could not be
// matched otherwise.
func (s *ImportSource) CheckLabelKey(k LabelKey) error {
	if !hmac.Equal(k, s.labelKey) {
		return errors.E(errors.Invalid, errors.Msg("the shared log's label key differs from the source log's: the copied records' label hashes could not be matched; give the replicas the source's label key (audit.label_key_file)"))
	}
	return nil
}

// Close releases the source and its lock.
func (s *ImportSource) Close() error {
	err := s.snap.Close()
	s.unlock()
	return err
}

// Import copies the source log (OpenImportSource) into the shared log l,
// which must be empty or hold what an interrupted Import of the same
// source left: a prefix of the source, or all of it followed by its
// import record.
//
// The source's entries are appended byte for byte, in order — records
// keep their times, principals, label hashes and indexes — in
// transactions of at most maxStoreBatch entries, each of which l's key
// signs a checkpoint for. Because the entries are the same bytes in the
// same order, the shared log's tree at the source's size is the source's
// tree: its root is the source checkpoint's root, which Import checks
// before appending one more record (ImportAction, ImportDetail) that
// names the source and carries its signed checkpoint. So the source's old
// checkpoints stay checkable against the shared log, and the shared log's
// own signatures begin with the import.
//
// l's label key must be the source's (CheckLabelKey). A target holding
// other records is refused before anything is written. Running Import
// again after it was interrupted copies what is missing; after it
// finished, it writes nothing and reports AlreadyDone. No replica may
// append to l meanwhile: a batch that finds the log moved is refused
// (Conflict).
func (l *StoreLog) Import(ctx context.Context, s *ImportSource) (ImportReport, error) {
	const op errors.Op = "audit.Import"
	var rep ImportReport
	if err := s.CheckLabelKey(l.opts.LabelKey); err != nil {
		return rep, errors.E(op, err)
	}
	snap := s.snap
	src, srcNote := snap.Checkpoint()
	rep.Source, rep.SourceNote, rep.Record = src, srcNote, src.Size
	detail := ImportDetail(src, srcNote)

	// Where an earlier run stopped, if anywhere.
	h, err := l.refresh(ctx)
	if err != nil {
		return rep, errors.E(op, err)
	}
	switch {
	case h.size == src.Size+1:
		if err := l.checkImportRecord(ctx, src, detail); err != nil {
			return rep, errors.E(op, err)
		}
		rep.Found, rep.AlreadyDone = src.Size, true
		rep.Target, rep.TargetNote = h.cp, h.note
		return rep, nil
	case h.size > src.Size:
		return rep, errors.E(op, errors.Conflict, errors.Msg(fmt.Sprintf(
			"the shared audit log already holds %d entries, more than the source's %d: it holds other records; import only into an empty shared log", h.size, src.Size)))
	}
	srcRoot, err := snap.tree.root(h.size)
	if err != nil {
		return rep, errors.E(op, errors.Internal, err)
	}
	if h.cp.Hash != srcRoot {
		return rep, errors.E(op, errors.Conflict, errors.Msg(fmt.Sprintf(
			"the shared audit log's %d entries are not the source's first %d: it holds other records; import only into an empty shared log", h.size, h.size)))
	}
	rep.Found = h.size

	for next := h.size; next < src.Size; {
		if err := ctx.Err(); err != nil {
			return rep, errors.E(op, err)
		}
		hi := min(next+maxStoreBatch, src.Size)
		es, err := readEntries(snap.f, snap.bundleOff, snap.endOff, next, hi)
		if err != nil {
			return rep, errors.E(op, err)
		}
		n, size := 0, 0
		for n < len(es) && (n == 0 || size+len(es[n]) <= importBatchBytes) {
			size += len(es[n])
			n++
		}
		// Entries are copied, not re-encoded: only then is the tree the
		// source's. Verify has checked that each decodes.
		if _, err := l.commit(es[:n], int64(next)); err != nil {
			return rep, errors.E(op, errors.Msg(fmt.Sprintf("copied %d of %d entries; run the import again to resume", next, src.Size)), err)
		}
		next += uint64(n)
		rep.Copied += uint64(n)
	}

	l.tmu.RLock()
	cp := l.cp
	l.tmu.RUnlock()
	if cp.Size != src.Size || cp.Hash != src.Hash {
		return rep, errors.E(op, errors.Internal, errors.Msg("the shared log's root after the copy is not the source checkpoint's"))
	}
	e, err := EncodeRecord(Record{Time: l.opts.Now(), Principal: ImportPrincipal, Action: ImportAction,
		ObjectType: importObjectType, ObjectID: src.Origin, Decision: Allow, Detail: detail})
	if err != nil {
		return rep, errors.E(op, err)
	}
	if _, err := l.commit([][]byte{e}, int64(src.Size)); err != nil {
		return rep, errors.E(op, errors.Msg("copied every entry but could not append the import record; run the import again"), err)
	}
	h, err = l.refresh(ctx)
	if err != nil {
		return rep, errors.E(op, err)
	}
	rep.Target, rep.TargetNote = h.cp, h.note
	return rep, nil
}

// checkImportRecord checks that the shared log (at size src.Size+1) is the
// source's entries followed by the import record with detail.
func (l *StoreLog) checkImportRecord(ctx context.Context, src Checkpoint, detail string) error {
	other := errors.E(errors.Conflict, errors.Msg(fmt.Sprintf(
		"the shared audit log holds %d entries but not this source's followed by its import record: it holds other records", src.Size+1)))
	e, err := l.Entry(ctx, src.Size)
	if err != nil {
		return err
	}
	r, err := DecodeRecord(e)
	if err != nil || r.Action != ImportAction || r.ObjectID != src.Origin || r.Detail != detail {
		return other
	}
	if err := l.atLeast(ctx, src.Size); err != nil {
		return err
	}
	l.tmu.RLock()
	root, err := l.tree.root(src.Size)
	l.tmu.RUnlock()
	if err != nil || root != src.Hash {
		return other
	}
	return nil
}

// lockSource takes the lock of the log directory dir, so that no process
// appends to it while it is imported. A directory without a lock file has
// never been opened for appending.
func lockSource(dir string) (unlock func(), err error) {
	f, err := os.Open(filepath.Join(dir, lockFile))
	if err != nil {
		if os.IsNotExist(err) {
			return func() {}, nil
		}
		return nil, errors.E(errors.Invalid, errors.Msg("cannot open the source audit log"), err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, errors.E(errors.Conflict, errors.Msg("the source audit log is in use by another process: stop the genesis that writes it first"), err)
	}
	return func() { f.Close() }, nil
}

// ParseImportDetail parses the Detail of an import record (ImportDetail):
// the imported log's checkpoint as its first line states it, and the
// signed note that follows (check it with the imported log's key,
// OpenCheckpoint). Only the exact form ImportDetail writes is accepted.
func ParseImportDetail(detail string) (Checkpoint, []byte, error) {
	const op errors.Op = "audit.ParseImportDetail"
	bad := errors.E(op, errors.Invalid, errors.Msg("malformed import record"))
	first, msg, ok := strings.Cut(detail, "\n")
	if !ok {
		return Checkpoint{}, nil, bad
	}
	rest, ok := strings.CutPrefix(first, "imported from ")
	origin, rest, ok2 := strings.Cut(rest, " at size ")
	size, root, ok3 := strings.Cut(rest, ", root ")
	if !ok || !ok2 || !ok3 || !validOrigin(origin) {
		return Checkpoint{}, nil, bad
	}
	n, err := strconv.ParseUint(size, 10, 64)
	if err != nil || n > 1<<62 {
		return Checkpoint{}, nil, bad
	}
	h, err := tlog.ParseHash(root)
	if err != nil {
		return Checkpoint{}, nil, bad
	}
	cp := Checkpoint{Origin: origin, Size: n, Hash: h}
	if ImportDetail(cp, []byte(msg)) != detail {
		return Checkpoint{}, nil, bad
	}
	return cp, []byte(msg), nil
}
