package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditKeygenAndVerifyConfig: keygen writes the two secret keys
// (0600) and the verifier key, never overwrites them, and the keys it
// writes start a shared log that verify --config then finds intact (and
// not intact once an entry is changed).
func TestAuditKeygenAndVerifyConfig(t *testing.T) {
	ctx := context.Background()
	none := func(string) string { return "" }
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(ctx, args, none, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	keys := filepath.Join(t.TempDir(), "keys")
	if code, out, errs := run("audit", "keygen", "--out", keys, "--origin", "example.org/audit"); code != 0 || !strings.Contains(out, "example.org/audit+") {
		t.Fatalf("keygen: %d %s %s", code, out, errs)
	}
	for name, mode := range map[string]os.FileMode{"audit.key": 0o600, "audit-label.key": 0o600, "audit.key.pub": 0o644} {
		fi, err := os.Stat(filepath.Join(keys, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(keys, "audit.key.pub"))
	if code, _, errs := run("audit", "keygen", "--out", keys); code == 0 || !strings.Contains(errs, "already exists") {
		t.Fatalf("second keygen into the same dir: %d %s", code, errs)
	}
	if after, _ := os.ReadFile(filepath.Join(keys, "audit.key.pub")); !bytes.Equal(after, pub) {
		t.Fatal("keygen overwrote a key")
	}

	// A shared log on SQLite with those keys.
	data := t.TempDir()
	dsn := "sqlite:" + filepath.Join(data, "genesis.db")
	cfg := filepath.Join(t.TempDir(), "genesis.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+data+"\nstore:\n  dsn: "+dsn+"\naudit:\n  backend: store\n  signing_key_file: "+filepath.Join(keys, "audit.key")+"\n  label_key_file: "+filepath.Join(keys, "audit-label.key")+"\n"), 0o600)
	appendShared(t, filepath.Join(data, "genesis.db"), filepath.Join(keys, "audit.key"), 300)
	if code, out, errs := run("audit", "verify", "--config", cfg); code != 0 || !strings.Contains(out, "entries:      300") || !strings.Contains(out, "intact:       yes") {
		t.Fatalf("verify --config: %d %s %s", code, out, errs)
	}
	if code, _, errs := run("audit", "verify", "--config", cfg, "--data-dir", data); code == 0 || !strings.Contains(errs, "alternatives") {
		t.Fatalf("--config with --data-dir: %d %s", code, errs)
	}
	tamperShared(t, filepath.Join(data, "genesis.db"))
	if code, out, _ := run("audit", "verify", "--config", cfg); code == 0 || !strings.Contains(out, "PROBLEM:") {
		t.Fatalf("verify --config after tampering: %d %s", code, out)
	}
}
