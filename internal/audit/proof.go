package audit

import (
	"context"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Proof is a self-contained inclusion proof: an entry, a signed checkpoint,
// and the hashes that link them. Anyone with the verifier key can check it
// (VerifyProof) without the log. It is what `genesis audit proof ENTRY`
// prints (as JSON).
type Proof struct {
	Index      uint64      `json:"index"`
	Entry      string      `json:"entry"`      // the canonical entry bytes (JSON text)
	Checkpoint string      `json:"checkpoint"` // signed note
	Hashes     []tlog.Hash `json:"proof"`      // RFC 6962 inclusion proof, base64 each
}

// Proof returns the inclusion proof of entry index against the snapshot's
// checkpoint.
func (s *Snapshot) Proof(ctx context.Context, index uint64) (Proof, error) {
	const op errors.Op = "audit.Snapshot.Proof"
	e, err := s.Entry(ctx, index)
	if err != nil {
		return Proof{}, errors.E(op, err)
	}
	h, err := s.ProveInclusion(ctx, index, s.cp.Size)
	if err != nil {
		return Proof{}, errors.E(op, err)
	}
	return Proof{Index: index, Entry: string(e), Checkpoint: string(s.cpNote), Hashes: h}, nil
}

// Proof returns the inclusion proof of entry index against the log's
// latest checkpoint.
func (l *Log) Proof(ctx context.Context, index uint64) (Proof, error) {
	const op errors.Op = "audit.Proof"
	cp, msg, _ := l.Checkpoint(ctx)
	if index >= cp.Size {
		return Proof{}, errors.E(op, errors.NotExist, errors.Msg("no such audit entry in the latest checkpoint"))
	}
	e, err := l.Entry(ctx, index)
	if err != nil {
		return Proof{}, errors.E(op, err)
	}
	h, err := l.ProveInclusion(ctx, index, cp.Size)
	if err != nil {
		return Proof{}, errors.E(op, err)
	}
	return Proof{Index: index, Entry: string(e), Checkpoint: string(msg), Hashes: h}, nil
}

// VerifyProof checks p with the log's verifier key and returns the
// checkpoint it is against and the record it proves.
func VerifyProof(p Proof, v note.Verifier) (Checkpoint, Record, error) {
	const op errors.Op = "audit.VerifyProof"
	cp, err := OpenCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return Checkpoint{}, Record{}, errors.E(op, err)
	}
	if err := VerifyInclusion(cp, p.Index, []byte(p.Entry), p.Hashes); err != nil {
		return Checkpoint{}, Record{}, errors.E(op, err)
	}
	r, err := DecodeRecord([]byte(p.Entry))
	if err != nil {
		return Checkpoint{}, Record{}, errors.E(op, err)
	}
	return cp, r, nil
}
