package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestSharedAuditReplicas: two apps (two data dirs, as two replicas) with
// audit.backend store on one PostgreSQL share one audit log: each sees
// the other's records in one order, matches the other's label hashes (one
// label key), and the whole log verifies through VerifySharedAudit. Keys
// come from files or from the environment; without them the start fails
// naming the setting.
func TestSharedAuditReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	keys := t.TempDir()
	skPath, lkPath := filepath.Join(keys, "audit.key"), filepath.Join(keys, "audit-label.key")
	if _, err := audit.WriteKeyFiles(skPath, audit.Origin("shared-test")); err != nil {
		t.Fatal(err)
	}
	if err := audit.WriteLabelKeyFile(lkPath); err != nil {
		t.Fatal(err)
	}
	secrets := sharedKeyFile(t)
	replica := func(audit config.Audit) (*App, error) {
		cfg := config.Default(t.TempDir())
		cfg.Store.DSN, cfg.Replica.SecretsKeyFile = dsn, secrets
		cfg.Audit = audit
		a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Cleanup(func() { a.Close() })
		}
		return a, err
	}
	fromFiles := config.Audit{Backend: "store", SigningKeyFile: skPath, LabelKeyFile: lkPath}
	a1, err := replica(fromFiles)
	if err != nil {
		t.Fatal(err)
	}
	// The second replica takes its keys from the environment.
	sk, _ := os.ReadFile(skPath)
	lk, _ := os.ReadFile(lkPath)
	t.Setenv("GENESIS_AUDIT_SIGNING_KEY", string(sk))
	t.Setenv("GENESIS_AUDIT_LABEL_KEY", string(lk))
	a2, err := replica(config.Audit{Backend: "store"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a1.Audit.(*audit.StoreLog); !ok {
		t.Fatalf("audit.backend store opened a %T", a1.Audit)
	}
	if a1.AuditKey == "" || a1.AuditKey != a2.AuditKey {
		t.Fatalf("verifier keys %q and %q", a1.AuditKey, a2.AuditKey)
	}
	label := []byte("OPEN")
	i1, err := a1.Audit.AppendSync(ctx, audit.Record{Principal: "p1", Action: "test.one", ObjectType: "dataset", ObjectID: "ds-1", Decision: audit.Allow, Label: label})
	if err != nil {
		t.Fatal(err)
	}
	i2, err := a2.Audit.AppendSync(ctx, audit.Record{Principal: "p2", Action: "test.two", ObjectType: "dataset", ObjectID: "ds-2", Decision: audit.Allow})
	if err != nil || i2 <= i1 {
		t.Fatalf("second replica's record at %d (first at %d): %v", i2, i1, err)
	}
	r, err := a2.Audit.Get(ctx, i1)
	if err != nil || r.Action != "test.one" || !a2.Audit.LabelMatches(r, label) {
		t.Fatalf("replica 2 reads replica 1's record: %+v %v", r, err)
	}
	if err := a2.Audit.Healthy(); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifySharedAudit(ctx, a1.Config, os.Getenv, nil, audit.VerifyOptions{})
	if err != nil || !rep.Intact() || rep.Entries != i2+1 {
		t.Fatalf("verify: %+v %v", rep, err)
	}

	// No keys: a clear start-up error naming the setting.
	t.Setenv("GENESIS_AUDIT_SIGNING_KEY", "")
	t.Setenv("GENESIS_AUDIT_LABEL_KEY", "")
	if _, err := replica(config.Audit{Backend: "store", LabelKeyFile: lkPath}); !errors.Is(errors.Invalid, err) || !strings.Contains(err.Error(), "audit.signing_key_file") {
		t.Fatalf("no signing key: %v", err)
	}
	if _, err := replica(config.Audit{Backend: "store", SigningKeyFile: skPath}); !errors.Is(errors.Invalid, err) || !strings.Contains(err.Error(), "audit.label_key_file") {
		t.Fatalf("no label key: %v", err)
	}
	// A malformed key in the environment is refused without echoing it.
	t.Setenv("GENESIS_AUDIT_SIGNING_KEY", "PRIVATE+KEY+not-a-key")
	if _, err := replica(config.Audit{Backend: "store", LabelKeyFile: lkPath}); err == nil || strings.Contains(err.Error(), "not-a-key") {
		t.Fatalf("malformed signing key: %v", err)
	}
	// A key file others may read is refused; one its group may read (a
	// Kubernetes Secret mounted 0440 for the pod's fsGroup) is not.
	t.Setenv("GENESIS_AUDIT_SIGNING_KEY", "")
	os.Chmod(skPath, 0o644)
	if _, err := replica(fromFiles); !errors.Is(errors.Permission, err) {
		t.Fatalf("world-readable key file: %v", err)
	}
	os.Chmod(skPath, 0o440)
	os.Chmod(lkPath, 0o440)
	if _, err := replica(fromFiles); err != nil {
		t.Fatalf("key files mode 0440: %v", err)
	}
}
