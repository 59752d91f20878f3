package audit

import (
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog checkpoint: the log's origin, the
// tree size, and the RFC 6962 root hash of the first Size entries.
type Checkpoint struct {
	Origin string
	Size   uint64
	Hash   tlog.Hash
}

// maxCheckpointSize bounds what ParseCheckpoint and OpenCheckpoint read.
const maxCheckpointSize = 16 << 10

// Text returns the checkpoint body: "origin\nsize\nbase64(root)\n".
func (c Checkpoint) Text() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Hash[:]))
	b.WriteByte('\n')
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint body (not a signed note). It accepts
// C2SP extension lines after the root hash and ignores them; everything
// else must be in canonical form.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	const op errors.Op = "audit.ParseCheckpoint"
	bad := func(msg string) (Checkpoint, error) {
		return Checkpoint{}, errors.E(op, errors.Invalid, errors.Msg("malformed checkpoint: "+msg))
	}
	if len(text) > maxCheckpointSize {
		return bad("too large")
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return bad("must end in a newline")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return bad("want origin, size and root hash lines")
	}
	origin := lines[0]
	if origin == "" || strings.ContainsAny(origin, " \t\r") {
		return bad("bad origin")
	}
	sz := lines[1]
	if sz == "" || (len(sz) > 1 && sz[0] == '0') || strings.ContainsFunc(sz, func(r rune) bool { return r < '0' || r > '9' }) {
		return bad("bad size")
	}
	size, err := strconv.ParseUint(sz, 10, 64)
	if err != nil || size > 1<<62 {
		return bad("bad size")
	}
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != lines[2] {
		return bad("bad root hash")
	}
	for _, ext := range lines[3:] {
		if ext == "" {
			return bad("empty extension line")
		}
	}
	c := Checkpoint{Origin: origin, Size: size}
	copy(c.Hash[:], h)
	return c, nil
}

// SignCheckpoint returns c as a signed note.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	const op errors.Op = "audit.SignCheckpoint"
	if s.Name() != c.Origin {
		return nil, errors.E(op, errors.Invalid, errors.Msg("signing key name differs from the log origin"))
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, s)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return msg, nil
}

// OpenCheckpoint verifies a signed checkpoint with v and parses it. The
// checkpoint's origin must equal the key name.
func OpenCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	const op errors.Op = "audit.OpenCheckpoint"
	if len(msg) > maxCheckpointSize {
		return Checkpoint{}, errors.E(op, errors.Invalid, errors.Msg("checkpoint too large"))
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, errors.E(op, errors.Invalid, errors.Msg("checkpoint signature does not verify"), err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, errors.E(op, err)
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, errors.E(op, errors.Invalid, errors.Msg("checkpoint origin differs from the key name"))
	}
	return c, nil
}

// LoadCheckpoint reads a signed checkpoint saved earlier (SaveCheckpoint,
// or the "checkpoint" a log serves over HTTP, saved as it came) and opens
// it with v: audit verify --trusted.
func LoadCheckpoint(path string, v note.Verifier) (Checkpoint, error) {
	const op errors.Op = "audit.LoadCheckpoint"
	f, err := os.Open(path)
	if err != nil {
		return Checkpoint{}, errors.E(op, errors.NotExist, errors.Msg("cannot read the trusted checkpoint "+path), err)
	}
	defer f.Close()
	msg, err := io.ReadAll(io.LimitReader(f, maxCheckpointSize+1))
	if err != nil {
		return Checkpoint{}, errors.E(op, errors.Invalid, errors.Msg("cannot read the trusted checkpoint "+path), err)
	}
	cp, err := OpenCheckpoint(msg, v)
	if err != nil {
		return Checkpoint{}, errors.E(op, errors.Invalid, errors.Msg(path+" is not a checkpoint of this log signed with its key"), err)
	}
	return cp, nil
}

// SaveCheckpoint writes a signed checkpoint note to path, replacing it
// atomically (a crash leaves the old file or the new one, never a mix):
// audit verify --save.
func SaveCheckpoint(path string, msg []byte) error {
	const op errors.Op = "audit.SaveCheckpoint"
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Msg("cannot write "+path), err)
	}
	_, err = f.Write(msg)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return errors.E(op, errors.Invalid, errors.Msg("cannot write "+path), err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
