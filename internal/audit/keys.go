package audit

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/mod/sumdb/note"
)

// Origin returns the conventional log origin (and key name) for a deployment.
func Origin(deploymentID string) string { return "genesis.local/audit/" + deploymentID }

// GenerateKey returns a new Ed25519 signed-note key pair named origin, in
// the note package's text forms ("PRIVATE+KEY+origin+…" and "origin+…").
func GenerateKey(origin string) (skey, vkey string, err error) {
	const op errors.Op = "audit.GenerateKey"
	if !validOrigin(origin) {
		return "", "", errors.E(op, errors.Invalid, errors.Msg("bad log origin: it must be non-empty UTF-8 without spaces or '+'"))
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", "", errors.E(op, errors.Invalid, errors.Msg("bad log origin"), err)
	}
	return skey, vkey, nil
}

// WriteKeyFiles generates a key pair and writes the private key to path
// (mode 0600, which must not exist yet) and the verifier key to path+".pub"
// (mode 0644). It returns the verifier key.
func WriteKeyFiles(path, origin string) (vkey string, err error) {
	const op errors.Op = "audit.WriteKeyFiles"
	skey, vkey, err := GenerateKey(origin)
	if err != nil {
		return "", errors.E(op, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return "", errors.E(op, errors.Exist, errors.Msg("audit key file already exists"), err)
		}
		return "", errors.E(op, errors.Internal, err)
	}
	_, err = f.WriteString(skey + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", errors.E(op, errors.Internal, err)
	}
	if err := os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return "", errors.E(op, errors.Internal, err)
	}
	return vkey, nil
}

// LoadSigner reads a private key file written by WriteKeyFiles. It refuses
// a file that group or others may read.
func LoadSigner(path string) (note.Signer, note.Verifier, error) {
	const op errors.Op = "audit.LoadSigner"
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, errors.E(op, errors.NotExist, errors.Msg("audit key file not found"), err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, nil, errors.E(op, errors.Permission, errors.Msg("audit key file must have mode 0600"))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, errors.E(op, errors.Internal, err)
	}
	return NewSigner(strings.TrimSpace(string(b)))
}

// LoadVerifier reads a verifier key file ("origin+hash+base64").
func LoadVerifier(path string) (note.Verifier, error) {
	const op errors.Op = "audit.LoadVerifier"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.E(op, errors.NotExist, errors.Msg("audit verifier key file not found"), err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("malformed audit verifier key"), err)
	}
	return v, nil
}

// NewSigner returns the signer for a private key in note text form and the
// matching verifier (derived from the private key, so they cannot disagree).
func NewSigner(skey string) (note.Signer, note.Verifier, error) {
	const op errors.Op = "audit.NewSigner"
	bad := errors.E(op, errors.Invalid, errors.Msg("malformed audit signing key"))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, bad
	}
	// PRIVATE+KEY+name+hash+base64(alg || seed)
	f := strings.SplitN(skey, "+", 5)
	if len(f) != 5 {
		return nil, nil, bad
	}
	raw, err := base64.StdEncoding.DecodeString(f[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, nil, errors.E(op, errors.Invalid, errors.Msg("audit signing key is not Ed25519"))
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, nil, bad
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.KeyHash() != s.KeyHash() {
		return nil, nil, bad
	}
	if _, err := strconv.ParseUint(f[3], 16, 32); err != nil {
		return nil, nil, bad
	}
	return s, v, nil
}

// validOrigin reports whether s can be both a checkpoint origin and a note
// key name.
func validOrigin(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsSpace) && !strings.Contains(s, "+")
}

// LabelKey is the secret key of the keyed label hashes in version-2
// records (RecordVersion). It is kept with the log's signing key and never
// shown: whoever holds it can test a record's label hash against labels.
type LabelKey []byte

// labelKeySize is the length of a label key in bytes.
const labelKeySize = 32

// NewLabelKey returns a fresh random label key.
func NewLabelKey() LabelKey {
	k := make(LabelKey, labelKeySize)
	rand.Read(k)
	return k
}

// Sum returns the keyed hash of the label (in canonical binary form) of
// the object of rec (its escaped ObjectType and ObjectID): binding the
// hash to the object means equal labels on different objects do not show
// as equal hashes either.
func (k LabelKey) Sum(rec Record, label []byte) []byte {
	rec = Escape(rec)
	m := hmac.New(sha256.New, k)
	m.Write([]byte("genesis audit label v2\x00"))
	for _, s := range []string{rec.ObjectType, rec.ObjectID} {
		var n [binary.MaxVarintLen64]byte
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		m.Write([]byte(s))
	}
	m.Write(label)
	return m.Sum(nil)
}

// Matches reports whether rec's label hash is that of label (canonical
// binary form). Version-1 records carry a bare SHA-256 of the label.
func (k LabelKey) Matches(rec Record, label []byte) bool {
	switch rec.Version {
	case 1:
		h := sha256.Sum256(label)
		return hmac.Equal(h[:], rec.LabelHash)
	case 0, RecordVersion:
		return len(k) > 0 && hmac.Equal(k.Sum(rec, label), rec.LabelHash)
	}
	return false
}

// WriteLabelKeyFile writes a fresh label key to path (mode 0600), which
// must not exist yet.
func WriteLabelKeyFile(path string) error {
	const op errors.Op = "audit.WriteLabelKeyFile"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return errors.E(op, errors.Exist, errors.Msg("audit label key file already exists"), err)
		}
		return errors.E(op, errors.Internal, err)
	}
	_, err = f.WriteString(hex.EncodeToString(NewLabelKey()) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.E(op, errors.Internal, err)
	}
	return nil
}

// LoadLabelKey reads a label key file written by WriteLabelKeyFile. It
// refuses a file that group or others may read.
func LoadLabelKey(path string) (LabelKey, error) {
	const op errors.Op = "audit.LoadLabelKey"
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errors.E(op, errors.NotExist, errors.Msg("audit label key file not found"), err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, errors.E(op, errors.Permission, errors.Msg("audit label key file must have mode 0600"))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	k, err := ParseLabelKey(string(b))
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("malformed audit label key file"))
	}
	return k, nil
}

// ParseLabelKey parses a label key in the text form of a label key file
// (64 hex digits; surrounding white space is ignored).
func ParseLabelKey(s string) (LabelKey, error) {
	const op errors.Op = "audit.ParseLabelKey"
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != labelKeySize {
		return nil, errors.E(op, errors.Invalid, errors.Msg("malformed audit label key: want 64 hex digits"))
	}
	return k, nil
}

// VerifierKey returns the verifier key (origin+hash+base64, the text of a
// .pub file) of a private key in note text form.
func VerifierKey(skey string) (string, error) {
	const op errors.Op = "audit.VerifierKey"
	skey = strings.TrimSpace(skey)
	s, _, err := NewSigner(skey)
	if err != nil {
		return "", errors.E(op, err)
	}
	f := strings.SplitN(skey, "+", 5)
	raw, _ := base64.StdEncoding.DecodeString(f[4])
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return "", errors.E(op, errors.Invalid, err)
	}
	return vkey, nil
}
