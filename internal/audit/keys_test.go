package audit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.key")
	vkey, err := WriteKeyFiles(path, Origin("dep-1"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	if _, err := WriteKeyFiles(path, Origin("dep-1")); !errors.Is(errors.Exist, err) {
		t.Fatalf("overwrote an existing key: %v", err)
	}
	s, v, err := LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "genesis.local/audit/dep-1" || v.Name() != s.Name() {
		t.Fatalf("names %q %q", s.Name(), v.Name())
	}
	v2, err := LoadVerifier(path + ".pub")
	if err != nil || v2.KeyHash() != s.KeyHash() {
		t.Fatalf("verifier file: %v", err)
	}
	msg, err := SignCheckpoint(Checkpoint{Origin: s.Name(), Size: 1}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(msg, v2); err != nil {
		t.Fatalf("public key file does not verify: %v (%s)", err, vkey)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadSigner(path); !errors.Is(errors.Permission, err) {
		t.Fatalf("loaded a group-readable key: %v", err)
	}
	if _, _, err := NewSigner("PRIVATE+KEY+x+00000000+AAAA"); !errors.Is(errors.Invalid, err) {
		t.Fatalf("malformed key: %v", err)
	}
	if _, _, err := GenerateKey("bad name"); err == nil {
		t.Fatal("origin with a space accepted")
	}
}
