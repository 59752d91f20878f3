package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	stderrors "errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Report is the outcome of Verify.
type Report struct {
	Origin     string
	Entries    uint64     // complete entries in the entries file
	Checkpoint Checkpoint // the latest signed checkpoint
	// CheckpointNote is Checkpoint's signed note, as the log serves it
	// (what audit verify --save keeps for the next --trusted).
	CheckpointNote []byte
	Previous       *Checkpoint // checkpoint.prev, if present
	Root           tlog.Hash   // recomputed root of the first Checkpoint.Size entries
	Tiles          int         // tile files checked byte for byte
	// Trusted are the VerifyOptions.Trusted checkpoints the log was proved
	// to extend (a consistency proof to Checkpoint verified).
	Trusted []Checkpoint
	// Pending counts complete entries after the checkpoint, and TornBytes
	// an incomplete trailing entry: both are what a crash leaves behind
	// (Open integrates or cuts them off); they are reported, not problems.
	Pending   uint64
	TornBytes int64
	Problems  []string // empty if and only if the log is intact
}

// Intact reports whether verification found no problem.
func (r *Report) Intact() bool { return len(r.Problems) == 0 }

const maxProblems = 50

func (r *Report) problem(format string, args ...any) {
	switch {
	case len(r.Problems) < maxProblems:
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	case len(r.Problems) == maxProblems:
		r.Problems = append(r.Problems, "… further problems not listed")
	}
}

// VerifyOptions tune VerifyFS.
type VerifyOptions struct {
	// Trusted are checkpoints seen before (by this verifier, a witness, the
	// metadata store): of this log, or of a log it imported (StoreLog.Import;
	// opened with that log's key) up to the import's size. Each must be a
	// prefix of the current log: this is what detects a rollback of the
	// whole directory, or a fork (another history signed with the same
	// key). Verify checks it twice: the root recomputed from the entries
	// at its size must be its root, and a consistency proof from it to the
	// latest checkpoint, taken from the checked tiles, must verify
	// (transparency-dev/merkle/proof).
	Trusted []Checkpoint
}

// Verify checks the log in dir offline: the signatures of the checkpoints,
// every entry (canonical encoding), every stored tile, and that the Merkle
// root recomputed from all the entries equals each checkpoint's root. The
// error is non-nil (kind Internal) if and only if the report lists problems.
func Verify(ctx context.Context, dir string, v note.Verifier) (Report, error) {
	return VerifyFS(ctx, os.DirFS(dir), v, VerifyOptions{})
}

// VerifyFS is Verify on any file system.
func VerifyFS(ctx context.Context, fsys fs.FS, v note.Verifier, opts VerifyOptions) (Report, error) {
	return verify(ctx, fsSource{fsys}, v, opts)
}

// source is where verify reads a log from: a directory (fsSource) or the
// metadata store (storeSource).
type source interface {
	// checkpoints returns the latest and the previous signed checkpoint;
	// a missing previous one is fs.ErrNotExist.
	checkpoints() (latest []byte, latestErr error, prev []byte, prevErr error)
	// entries calls fn with every stored entry in order. A framing or
	// sequence problem is reported through problem; torn counts the bytes
	// of an incomplete trailing entry. An error means reading stopped.
	entries(ctx context.Context, fn func(e []byte) error, problem func(string, ...any)) (torn int64, err error)
	// tile returns stored full tile (level, n).
	tile(level int, n uint64) ([]byte, error)
	// others reports every stored object other than the tiles in checked,
	// and anything else inconsistent with the latest checkpoint cp.
	others(checked map[string]bool, cp Checkpoint, problem func(string, ...any))
	// pendingAllowed tells whether entries after the latest checkpoint are
	// what a crash leaves (a directory) or a problem (the store, which
	// commits entries and checkpoint together).
	pendingAllowed() bool
}

func verify(ctx context.Context, src source, v note.Verifier, opts VerifyOptions) (Report, error) {
	const op errors.Op = "audit.Verify"
	rep := Report{Origin: v.Name()}
	fail := func() (Report, error) {
		return rep, errors.E(op, errors.Internal, errors.Msg("audit log failed verification: "+rep.Problems[0]))
	}

	// Checkpoints. expect maps tree sizes to the roots they must have.
	expect := map[uint64][]tlog.Hash{}
	latestMsg, latestErr, prevMsg, prevErr := src.checkpoints()
	latestOK := false
	if latestErr != nil {
		rep.problem("checkpoint: %v", latestErr)
	} else if cp, err := OpenCheckpoint(latestMsg, v); err != nil {
		rep.problem("checkpoint: %v", err)
	} else {
		rep.Checkpoint, rep.CheckpointNote, latestOK = cp, latestMsg, true
		expect[cp.Size] = append(expect[cp.Size], cp.Hash)
	}
	if msg, err := prevMsg, prevErr; err == nil {
		if cp, err := OpenCheckpoint(msg, v); err != nil {
			rep.problem("checkpoint.prev: %v", err)
		} else {
			rep.Previous = &cp
			if latestOK && cp.Size > rep.Checkpoint.Size {
				rep.problem("checkpoint.prev is larger (%d) than checkpoint (%d)", cp.Size, rep.Checkpoint.Size)
			}
			expect[cp.Size] = append(expect[cp.Size], cp.Hash)
		}
	} else if !errors.IsErr(err, fs.ErrNotExist) {
		rep.problem("checkpoint.prev: %v", err)
	}
	trusted := map[uint64][]tlog.Hash{} // sizes of trusted checkpoints → their roots
	for _, t := range opts.Trusted {
		// A checkpoint of another log counts if this log imported that
		// one (checked after the entries, which hold the import records).
		if latestOK && t.Size > rep.Checkpoint.Size {
			rep.problem("log rolled back: trusted checkpoint has size %d, log checkpoint %d", t.Size, rep.Checkpoint.Size)
		}
		trusted[t.Size] = append(trusted[t.Size], t.Hash)
	}

	// Entries, re-hashed with an implementation independent of the writer's.
	hasher := rfc6962.DefaultHasher
	rf := compact.RangeFactory{Hash: hasher.HashChildren}
	cr := rf.NewEmptyRange(0)
	rows := [][]byte{nil}    // per tile level: concatenated hashes of the current tile
	fullTiles := []uint64{0} // per tile level: tiles completed so far
	checked := map[string]bool{}
	checkTile := func(level int, n uint64, data []byte) {
		p := tilePath(level, n)
		got, err := src.tile(level, n)
		if err != nil {
			// Tiles after the checkpoint may be missing after a crash.
			if !latestOK || (n+1)<<(tileHeight*(level+1)) <= rep.Checkpoint.Size {
				rep.problem("%s: %v", p, err)
			}
			return
		}
		checked[p] = true
		rep.Tiles++
		if !bytes.Equal(got, data) {
			rep.problem("%s: does not match the entries", p)
		}
	}
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level%tileHeight != 0 {
			return
		}
		L := int(id.Level / tileHeight)
		for len(rows) <= L {
			rows = append(rows, nil)
			fullTiles = append(fullTiles, 0)
		}
		rows[L] = append(rows[L], hash...)
		if len(rows[L]) == tileBytes {
			checkTile(L, fullTiles[L], rows[L])
			fullTiles[L]++
			rows[L] = rows[L][:0]
		}
	}
	// atCheckpoint is the tree of the latest checkpoint's size (hash
	// tiles from src, the rows at that size), for consistency proofs.
	var atCheckpoint *tree
	checkRoot := func(size uint64) {
		if latestOK && size == rep.Checkpoint.Size && len(opts.Trusted) > 0 {
			atCheckpoint = &tree{size: size, full: append([]uint64(nil), fullTiles...), readTile: src.tile}
			for _, r := range rows {
				hs := make([]tlog.Hash, len(r)/tlog.HashSize)
				for i := range hs {
					copy(hs[i][:], r[i*tlog.HashSize:])
				}
				atCheckpoint.rows = append(atCheckpoint.rows, hs)
			}
		}
		want, ok := expect[size]
		forks := trusted[size]
		if !ok && len(forks) == 0 {
			return
		}
		var root tlog.Hash
		if size == 0 {
			root = sha256.Sum256(nil)
		} else {
			h, err := cr.GetRootHash(nil)
			if err != nil {
				rep.problem("root at %d: %v", size, err)
				return
			}
			copy(root[:], h)
		}
		if latestOK && size == rep.Checkpoint.Size {
			rep.Root = root
		}
		for _, w := range want {
			if w != root {
				rep.problem("entries do not match the signed checkpoint of size %d", size)
			}
		}
		for _, w := range forks {
			if w != root {
				rep.problem("log forked: its first %d entries are not those of the trusted checkpoint of that size", size)
			}
		}
	}
	checkRoot(0)

	// imported maps the origin of each log imported into this one
	// (StoreLog.Import) to its size then, once its import record's root
	// is checked.
	imported := map[string]uint64{}
	checkImport := func(idx uint64, r Record) {
		cp, _, err := ParseImportDetail(r.Detail)
		switch {
		case err != nil:
			rep.problem("entry %d: %v", idx, err)
			return
		case cp.Size != idx || cp.Origin != r.ObjectID:
			rep.problem("entry %d: an import record of size %d of %q must be entry %d", idx, cp.Size, cp.Origin, cp.Size)
			return
		}
		root := emptyRoot()
		if idx > 0 {
			h, err := cr.GetRootHash(nil)
			if err != nil {
				rep.problem("entry %d: %v", idx, err)
				return
			}
			copy(root[:], h)
		}
		if root != cp.Hash {
			rep.problem("entry %d: the imported log's root %s is not this log's root at %d: the imported entries were changed", idx, cp.Hash, idx)
			return
		}
		imported[cp.Origin] = max(imported[cp.Origin], cp.Size)
	}

	badEntries := 0
	torn, err := src.entries(ctx, func(e []byte) error {
		if rep.Entries%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if r, err := DecodeRecord(e); err != nil {
			if badEntries++; badEntries <= 10 {
				rep.problem("entry %d: %v", rep.Entries, err)
			}
		} else if r.Action == ImportAction && r.ObjectType == importObjectType {
			checkImport(rep.Entries, r)
		}
		if err := cr.Append(hasher.HashLeaf(e), visit); err != nil {
			rep.problem("entry %d: %v", rep.Entries, err)
			return stopVerify
		}
		rep.Entries++
		checkRoot(rep.Entries)
		return nil
	}, rep.problem)
	rep.TornBytes = torn
	if err != nil {
		if ctx.Err() != nil {
			return rep, errors.E(op, ctx.Err())
		}
		if err != stopVerify {
			rep.problem("entries: %v", err)
		}
		return fail()
	}
	if badEntries > 10 {
		rep.problem("%d malformed entries in all", badEntries)
	}
	for size := range expect {
		if size > rep.Entries {
			rep.problem("the log holds %d entries but a checkpoint covers %d (truncated?)", rep.Entries, size)
		}
	}
	for _, t := range opts.Trusted {
		if !latestOK || t.Size > rep.Checkpoint.Size {
			continue // reported above
		}
		if t.Origin != v.Name() {
			if n, ok := imported[t.Origin]; !ok || t.Size > n {
				rep.problem("trusted checkpoint is for another log (%q), and this log holds no import of it up to size %d", t.Origin, t.Size)
				continue
			}
		}
		if t.Size > rep.Entries {
			rep.problem("log rolled back: the trusted checkpoint covers %d entries, the log holds %d", t.Size, rep.Entries)
			continue
		}
		// (For an imported log's checkpoint, the proof is about the tree,
		// which the import kept: the same tree under this log's name.)
		if err := proveExtends(atCheckpoint, Checkpoint{Origin: rep.Checkpoint.Origin, Size: t.Size, Hash: t.Hash}, rep.Checkpoint); err != nil {
			rep.problem("log forked: %v", err)
			continue
		}
		rep.Trusted = append(rep.Trusted, t)
	}
	if latestOK && rep.Entries > rep.Checkpoint.Size {
		rep.Pending = rep.Entries - rep.Checkpoint.Size
		if !src.pendingAllowed() {
			rep.problem("%d entries after the signed checkpoint", rep.Pending)
		}
	}
	src.others(checked, rep.Checkpoint, rep.problem)
	if !rep.Intact() {
		return fail()
	}
	return rep, nil
}

// proveExtends proves with a consistency proof from tr (the tree at
// latest.Size) that the tree of trusted is a prefix of the tree of latest.
func proveExtends(tr *tree, trusted, latest Checkpoint) error {
	var p []tlog.Hash
	if trusted.Size > 0 {
		if tr == nil {
			return fmt.Errorf("no tree at the checkpoint's size %d to prove the trusted checkpoint of size %d from", latest.Size, trusted.Size)
		}
		var err error
		if p, err = tlog.ProveTree(int64(latest.Size), int64(trusted.Size), tr); err != nil {
			return fmt.Errorf("no consistency proof from the trusted checkpoint of size %d: %v", trusted.Size, err)
		}
	} else if trusted.Hash != emptyRoot() {
		return fmt.Errorf("the trusted checkpoint of size 0 has a root other than the empty tree's")
	}
	if err := VerifyConsistency(trusted, latest, p); err != nil {
		return fmt.Errorf("the trusted checkpoint of size %d (root %s) is not a prefix of the checkpoint of size %d (root %s): %v",
			trusted.Size, trusted.Hash, latest.Size, latest.Hash, err)
	}
	return nil
}

// stopVerify ends the reading of entries after a problem already reported.
var stopVerify = stderrors.New("audit: verification stopped")

// fsSource reads a log directory.
type fsSource struct{ fsys fs.FS }

func (s fsSource) pendingAllowed() bool { return true }

func (s fsSource) checkpoints() ([]byte, error, []byte, error) {
	// checkpoint.prev is read before checkpoint: a writer replaces them in
	// the other order, so a live log never shows prev newer than latest.
	prev, prevErr := fs.ReadFile(s.fsys, prevCheckptF)
	latest, latestErr := fs.ReadFile(s.fsys, checkpointF)
	return latest, latestErr, prev, prevErr
}

func (s fsSource) tile(level int, n uint64) ([]byte, error) {
	return fs.ReadFile(s.fsys, tilePath(level, n))
}

func (s fsSource) entries(ctx context.Context, fn func([]byte) error, problem func(string, ...any)) (int64, error) {
	f, err := s.fsys.Open(entriesFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var lenb [2]byte
	buf := make([]byte, MaxEntrySize)
	for {
		k, err := io.ReadFull(r, lenb[:])
		if err == io.EOF {
			return 0, nil
		}
		if err != nil {
			return int64(k), nil
		}
		e := buf[:binary.BigEndian.Uint16(lenb[:])]
		if k, err := io.ReadFull(r, e); err != nil {
			if err != io.ErrUnexpectedEOF && err != io.EOF {
				problem("entries: %v", err)
			}
			return int64(2 + k), nil
		}
		if err := fn(e); err != nil {
			return 0, err
		}
	}
}

func (s fsSource) others(checked map[string]bool, _ Checkpoint, problem func(string, ...any)) {
	// Every file under tile/ must be a tile just checked.
	err := fs.WalkDir(s.fsys, "tile", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.IsErr(err, fs.ErrNotExist) && p == "tile" {
				return nil
			}
			problem("%s: %v", p, err)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !checked[p] {
			problem("%s: unexpected file", p)
		}
		return nil
	})
	if err != nil {
		problem("tile: %v", err)
	}
	// And nothing unknown at the top.
	if des, err := fs.ReadDir(s.fsys, "."); err == nil {
		for _, d := range des {
			switch d.Name() {
			case entriesFile, checkpointF, prevCheckptF, lockFile, "tile", tmpCheckpoint, tmpPrev, tmpTile:
			default:
				problem("%s: unexpected file", d.Name())
			}
		}
	}
}

// VerifyInclusion checks that entry is at index in the tree of checkpoint
// cp, given the proof from ProveInclusion.
func VerifyInclusion(cp Checkpoint, index uint64, entry []byte, p []tlog.Hash) error {
	const op errors.Op = "audit.VerifyInclusion"
	h := rfc6962.DefaultHasher
	if err := proof.VerifyInclusion(h, index, cp.Size, h.HashLeaf(entry), hashesToBytes(p), cp.Hash[:]); err != nil {
		return errors.E(op, errors.Invalid, errors.Msg("inclusion proof does not verify"), err)
	}
	return nil
}

// VerifyConsistency checks that the tree of checkpoint older is a prefix of
// the tree of checkpoint newer, given the proof from ProveConsistency.
func VerifyConsistency(older, newer Checkpoint, p []tlog.Hash) error {
	const op errors.Op = "audit.VerifyConsistency"
	if older.Origin != newer.Origin {
		return errors.E(op, errors.Invalid, errors.Msg("checkpoints are of different logs"))
	}
	if older.Size == 0 {
		return nil
	}
	err := proof.VerifyConsistency(rfc6962.DefaultHasher, older.Size, newer.Size, hashesToBytes(p), older.Hash[:], newer.Hash[:])
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Msg("consistency proof does not verify: the log was rewritten"), err)
	}
	return nil
}

func hashesToBytes(p []tlog.Hash) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// FormatProof renders proof hashes one base64 hash per line, for the CLI.
func FormatProof(p []tlog.Hash) string {
	var b strings.Builder
	for _, h := range p {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	return b.String()
}
