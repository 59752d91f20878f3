package audit

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func keySeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "keys", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/keys: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}

// FuzzParseLabelKey: a label key parses exactly when its trimmed text is
// 64 hex digits, to those 32 bytes, and its canonical text parses back to
// the same key.
func FuzzParseLabelKey(f *testing.F) {
	keySeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseLabelKey(s)
		trimmed := strings.TrimSpace(s)
		want, herr := hex.DecodeString(trimmed)
		valid := herr == nil && len(want) == labelKeySize
		if (err == nil) != valid {
			t.Fatalf("ParseLabelKey(%q) = %v; 64 hex digits: %v", s, err, valid)
		}
		if err != nil {
			if len(trimmed) >= 8 && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("error echoes the key: %v", err)
			}
			return
		}
		if !bytes.Equal(k, want) {
			t.Fatalf("ParseLabelKey(%q) = %x", s, k)
		}
		back, err := ParseLabelKey(hex.EncodeToString(k))
		if err != nil || !bytes.Equal(back, k) {
			t.Fatalf("round trip: %x %v", back, err)
		}
	})
}

// FuzzVerifierKey: a private key text either yields the verifier key that
// checks what the key signs, or an error; never a verifier of another key.
func FuzzVerifierKey(f *testing.F) {
	keySeeds(f)
	skey, _, err := GenerateKey(Origin("fuzz"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(skey)
	f.Add(skey + "\n")
	f.Add(strings.Replace(skey, "+", "-", 1))
	f.Fuzz(func(t *testing.T, s string) {
		vkey, err := VerifierKey(s)
		signer, verifier, serr := NewSigner(strings.TrimSpace(s))
		if (err == nil) != (serr == nil) {
			t.Fatalf("VerifierKey and NewSigner disagree on %q: %v / %v", s, err, serr)
		}
		if err != nil {
			return
		}
		cp := Checkpoint{Origin: signer.Name(), Size: 1}
		msg, err := SignCheckpoint(cp, signer)
		if err != nil {
			return // an origin a checkpoint cannot carry: nothing to check it with
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatalf("VerifierKey(%q) = %q, which does not parse: %v", s, vkey, err)
		}
		if v.KeyHash() != verifier.KeyHash() || v.Name() != verifier.Name() {
			t.Fatalf("verifier of another key")
		}
		if _, err := OpenCheckpoint(msg, v); err != nil {
			t.Fatalf("the verifier does not check what the key signs: %v", err)
		}
	})
}
