package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
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
