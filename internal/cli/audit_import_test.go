package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestAuditImportAndTrusted: a single server's audit log (its data dir's
// keys) is imported into the shared log of a config on SQLite and on
// PostgreSQL, a second run writes nothing, and the result verifies; a
// shared log configured with another label key is refused. Then, on
// SQLite, verify --save keeps a checkpoint, verify --trusted proves the
// grown log extends it, and a copy of the database from before is caught
// as a rollback, with --save left alone; the source's own checkpoint is
// trusted only with the source's key (--trusted-key).
func TestAuditImportAndTrusted(t *testing.T) {
	ctx := context.Background()
	none := func(string) string { return "" }
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(ctx, args, none, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	// The single server's data dir.
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "keys"), 0o700)
	srcKey, srcLabel := filepath.Join(src, "keys", "audit.key"), filepath.Join(src, "keys", "audit-label.key")
	if _, err := audit.WriteKeyFiles(srcKey, audit.Origin("single")); err != nil {
		t.Fatal(err)
	}
	if err := audit.WriteLabelKeyFile(srcLabel); err != nil {
		t.Fatal(err)
	}
	s, v, _ := audit.LoadSigner(srcKey)
	lk, _ := audit.LoadLabelKey(srcLabel)
	l, err := audit.Open(ctx, filepath.Join(src, "audit"), audit.Options{Signer: s, Verifier: v, LabelKey: lk})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		l.Append(ctx, audit.Record{Time: time.Unix(int64(1e9+i), 0), Principal: "alice", Action: "dataset.read", ObjectType: "dataset", ObjectID: fmt.Sprint(i), Decision: audit.Allow, Label: []byte{byte(i % 3)}})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run("audit", "verify", "--data-dir", src, "--save", filepath.Join(t.TempDir(), "cp")); code != 0 || !strings.Contains(out, "saved:") {
		t.Fatalf("verify --data-dir --save: %d %s %s", code, out, errs)
	}

	// The replicas' keys: a new signing key, the source's label key.
	keys := t.TempDir()
	newKey := filepath.Join(keys, "audit.key")
	if _, err := audit.WriteKeyFiles(newKey, audit.Origin("replicas")); err != nil {
		t.Fatal(err)
	}
	otherLabel := filepath.Join(keys, "other-label.key")
	audit.WriteLabelKeyFile(otherLabel)
	config := func(dsn, labelKey string) string {
		p := filepath.Join(t.TempDir(), "genesis.yaml")
		os.WriteFile(p, []byte("data_dir: "+t.TempDir()+"\nstore:\n  dsn: "+dsn+"\naudit:\n  backend: store\n  signing_key_file: "+newKey+"\n  label_key_file: "+labelKey+"\n"), 0o600)
		return p
	}
	dbPath := filepath.Join(t.TempDir(), "genesis.db")
	dsns := map[string]string{"sqlite": "sqlite:" + dbPath}
	if os.Getenv("GENESIS_TEST_POSTGRES") != "" || os.Getenv("GENESIS_TEST_REQUIRE") == "all" {
		dsns["postgres"] = storetest.PostgresDSN(t)
	} else {
		t.Log("GENESIS_TEST_POSTGRES is not set: importing into SQLite only")
	}
	var cfg string
	for name, dsn := range dsns {
		c := config(dsn, srcLabel)
		if name == "sqlite" {
			cfg = c
		}
		if code, out, errs := run("audit", "import", "--from", src, "--config", config(dsn, otherLabel)); code == 0 || !strings.Contains(errs, "label key") {
			t.Fatalf("%s: import with another label key: %d %s %s", name, code, out, errs)
		}
		if name == "sqlite" {
			// Refused before the store is touched: no database file.
			corrupt := t.TempDir()
			if out, err := exec.Command("cp", "-a", src+"/.", corrupt).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			ef := filepath.Join(corrupt, "audit", "entries")
			data, _ := os.ReadFile(ef)
			data[100] ^= 1
			os.WriteFile(ef, data, 0o600)
			if code, out, errs := run("audit", "import", "--from", corrupt, "--config", c); code == 0 || !strings.Contains(errs, "does not verify") {
				t.Fatalf("import of a corrupt log: %d %s %s", code, out, errs)
			}
			if _, err := os.Stat(dbPath); err == nil {
				t.Fatal("a refused import created the database")
			}
		}
		code, out, errs := run("audit", "import", "--from", src, "--config", c)
		if code != 0 || !strings.Contains(out, "copied:       600 entries (0 already") || !strings.Contains(out, "import record: index 600") ||
			!strings.Contains(out, "size 601") || !strings.Contains(out, "— "+audit.Origin("single")) || !strings.Contains(out, "— "+audit.Origin("replicas")) {
			t.Fatalf("%s: import: %d %s %s", name, code, out, errs)
		}
		if code, out, errs := run("audit", "import", "--from", src, "--config", c); code != 0 || !strings.Contains(out, "already imported") {
			t.Fatalf("%s: import again: %d %s %s", name, code, out, errs)
		}
		if code, out, errs := run("audit", "verify", "--config", c); code != 0 || !strings.Contains(out, "entries:      601") || !strings.Contains(out, "intact:       yes") {
			t.Fatalf("%s: verify after import: %d %s %s", name, code, out, errs)
		}
	}

	// Trusted checkpoints, on SQLite.
	cp1, cp2 := filepath.Join(t.TempDir(), "cp1"), filepath.Join(t.TempDir(), "cp2")
	if code, out, errs := run("audit", "verify", "--config", cfg, "--save", cp1); code != 0 || !strings.Contains(out, "saved:        checkpoint of size 601") {
		t.Fatalf("verify --save: %d %s %s", code, out, errs)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	if out, err := exec.Command("cp", dbPath, old).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	appendShared(t, dbPath, newKey, 40)
	if code, out, errs := run("audit", "verify", "--config", cfg, "--trusted", cp1, "--save", cp2); code != 0 || !strings.Contains(out, "trusted:      size 601") || !strings.Contains(out, "saved:        checkpoint of size 641") {
		t.Fatalf("verify --trusted: %d %s %s", code, out, errs)
	}
	saved, _ := os.ReadFile(cp2)
	code, out, _ := run("audit", "verify", "--config", config("sqlite:"+old, srcLabel), "--trusted", cp2, "--save", cp2)
	if code == 0 || !strings.Contains(out, "PROBLEM:      log rolled back") {
		t.Fatalf("verify a rolled-back copy: %d %s", code, out)
	}
	if after, _ := os.ReadFile(cp2); !bytes.Equal(after, saved) {
		t.Fatal("--save overwrote the trusted checkpoint of a log that failed verification")
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("not a checkpoint\n"), 0o600)
	if code, _, errs := run("audit", "verify", "--config", cfg, "--trusted", bad); code == 0 || !strings.Contains(errs, "not a checkpoint of this log") {
		t.Fatalf("verify --trusted garbage: %d %s", code, errs)
	}
	srcCP := filepath.Join(src, "audit", "checkpoint")
	if code, _, errs := run("audit", "verify", "--config", cfg, "--trusted", srcCP); code == 0 || !strings.Contains(errs, "not a checkpoint of this log") {
		t.Fatalf("verify --trusted with the source log's checkpoint: %d %s", code, errs)
	}
	// With the source's key, its checkpoints are trusted checkpoints of
	// the shared log.
	if code, out, errs := run("audit", "verify", "--config", cfg, "--trusted", srcCP, "--trusted-key", srcKey+".pub"); code != 0 || !strings.Contains(out, "trusted:      size 600") {
		t.Fatalf("verify --trusted with the source's checkpoint and key: %d %s %s", code, out, errs)
	}
}
