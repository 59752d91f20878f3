package audit

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Snapshot is a read-only view of a log directory as of its latest signed
// checkpoint. It needs only the verifier key, takes no lock, and is safe
// to use while another process appends (entries are append-only, tiles
// immutable, the checkpoint replaced atomically). It is what the CLI uses
// for `audit tail` and `audit proof` against a data directory.
//
// A Snapshot trusts the stored tiles; use Verify to check every byte.
type Snapshot struct {
	dir       string
	cp        Checkpoint
	cpNote    []byte
	f         *os.File
	tree      tree
	mem       map[string][]byte // tiles computed from entries after the checkpoint's last full tile
	bundleOff []int64
	endOff    int64
}

var _ Reader = (*Snapshot)(nil)

// OpenSnapshot opens the log in dir read-only at its latest checkpoint,
// which must verify with v and match the stored entries and tiles.
func OpenSnapshot(ctx context.Context, dir string, v note.Verifier) (*Snapshot, error) {
	const op errors.Op = "audit.OpenSnapshot"
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, checkpointF))
	if err != nil {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no audit log checkpoint in that directory"), err)
	}
	cp, err := OpenCheckpoint(msg, v)
	if err != nil {
		return nil, errors.E(op, err)
	}
	s := &Snapshot{dir: dir, cp: cp, cpNote: msg, mem: map[string][]byte{}}
	s.tree.readTile = func(level int, n uint64) ([]byte, error) {
		if d, ok := s.mem[tilePath(level, n)]; ok {
			return d, nil
		}
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(tilePath(level, n))))
	}
	s.f, err = os.Open(filepath.Join(dir, entriesFile))
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	n, offs, end, _, err := scanEntriesUpTo(s.f, cp.Size)
	if err == nil && n < cp.Size {
		err = errors.E(errors.Internal, errors.Msg("audit log is missing entries its checkpoint covers; run audit verify"))
	}
	if err != nil {
		s.f.Close()
		return nil, errors.E(op, err)
	}
	s.bundleOff, s.endOff = offs, end
	m0 := cp.Size / tileWidth * tileWidth
	err = s.tree.rebuild(m0)
	if err == nil && m0 < cp.Size {
		r := bufio.NewReader(io.NewSectionReader(s.f, offs[m0/tileWidth], end-offs[m0/tileWidth]))
		var lenb [2]byte
		buf := make([]byte, MaxEntrySize)
		for i := m0; i < cp.Size && err == nil; i++ {
			if _, err = io.ReadFull(r, lenb[:]); err != nil {
				break
			}
			e := buf[:binary.BigEndian.Uint16(lenb[:])]
			if _, err = io.ReadFull(r, e); err != nil {
				break
			}
			for _, t := range s.tree.appendLeaf(tlog.RecordHash(e), nil) {
				s.mem[tilePath(t.level, t.n)] = t.data
			}
		}
	}
	if err == nil {
		var root tlog.Hash
		if root, err = s.tree.root(cp.Size); err == nil && root != cp.Hash {
			err = errors.E(errors.Internal, errors.Msg("audit entries do not match the signed checkpoint; run audit verify"))
		}
	}
	if err != nil {
		s.f.Close()
		return nil, errors.E(op, errors.Internal, err)
	}
	return s, nil
}

// Close releases the snapshot's file.
func (s *Snapshot) Close() error { return s.f.Close() }

// Checkpoint returns the checkpoint the snapshot is at, and its signed note.
func (s *Snapshot) Checkpoint() (Checkpoint, []byte) { return s.cp, s.cpNote }

// Size implements Reader.
func (s *Snapshot) Size(ctx context.Context) (uint64, error) { return s.cp.Size, nil }

// Entry returns the raw bytes of entry index.
func (s *Snapshot) Entry(ctx context.Context, index uint64) ([]byte, error) {
	const op errors.Op = "audit.Snapshot.Entry"
	if index >= s.cp.Size {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such audit entry"))
	}
	es, err := readEntries(s.f, s.bundleOff, s.endOff, index, index+1)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return es[0], nil
}

// Get implements Reader.
func (s *Snapshot) Get(ctx context.Context, index uint64) (Record, error) {
	e, err := s.Entry(ctx, index)
	if err != nil {
		return Record{}, err
	}
	return DecodeRecord(e)
}

// Tail implements Reader.
func (s *Snapshot) Tail(ctx context.Context, n int) ([]Entry, error) {
	const op errors.Op = "audit.Snapshot.Tail"
	if n <= 0 || s.cp.Size == 0 {
		return nil, nil
	}
	lo := uint64(0)
	if uint64(n) < s.cp.Size {
		lo = s.cp.Size - uint64(n)
	}
	raw, err := readEntries(s.f, s.bundleOff, s.endOff, lo, s.cp.Size)
	if err != nil {
		return nil, errors.E(op, err)
	}
	out := make([]Entry, len(raw))
	for i, e := range raw {
		r, err := DecodeRecord(e)
		if err != nil {
			return nil, errors.E(op, err)
		}
		out[i] = Entry{Index: lo + uint64(i), Record: r}
	}
	return out, nil
}

// ProveInclusion is Log.ProveInclusion on the snapshot (size ≤ its
// checkpoint's size).
func (s *Snapshot) ProveInclusion(ctx context.Context, index, size uint64) ([]tlog.Hash, error) {
	const op errors.Op = "audit.Snapshot.ProveInclusion"
	if index >= size || size > s.cp.Size {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such audit entry in that tree"))
	}
	p, err := tlog.ProveRecord(int64(size), int64(index), &s.tree)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return p, nil
}

// ProveConsistency is Log.ProveConsistency on the snapshot.
func (s *Snapshot) ProveConsistency(ctx context.Context, oldSize, newSize uint64) ([]tlog.Hash, error) {
	const op errors.Op = "audit.Snapshot.ProveConsistency"
	if oldSize > newSize || newSize > s.cp.Size {
		return nil, errors.E(op, errors.Invalid, errors.Msg("bad tree sizes"))
	}
	if oldSize == 0 || oldSize == newSize {
		return nil, nil
	}
	p, err := tlog.ProveTree(int64(newSize), int64(oldSize), &s.tree)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return p, nil
}
