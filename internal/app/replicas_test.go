package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestDeploymentKeyShared: the first replica records its key's
// fingerprint; replicas with the same key start, one with another key is
// refused with a message naming the setting, and the fingerprint does
// not reveal the key.
func TestDeploymentKeyShared(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		for range 3 {
			if err := checkDeploymentKey(ctx, db, "site-credentials", k1, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		err := checkDeploymentKey(ctx, db, "site-credentials", k2, time.Now())
		if !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "replica.secrets_key_file") {
			t.Fatalf("another key: %v", err)
		}
		if fp := keyFingerprint("site-credentials", k1); strings.Contains(fp, "0101") || len(fp) != 32 {
			t.Fatalf("fingerprint %q", fp)
		}
		// Another name is another key.
		if err := checkDeploymentKey(ctx, db, "other", k2, time.Now()); err != nil {
			t.Fatal(err)
		}
	})
}

// sharedKeyFile writes a site-credentials key that replicas of one
// deployment share (replica.secrets_key_file).
func sharedKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets.key")
	if err := os.WriteFile(path, bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplicaStartup: on PostgreSQL, replicas with their own data
// directories and a shared key start side by side, and one with another
// key is refused; on SQLite a second process on the same store file is
// refused even with its own data directory (SQLite is embedded in one
// process), and one data directory is never shared.
func TestReplicaStartup(t *testing.T) {
	ctx := context.Background()
	open := func(cfg config.Config) (*App, error) {
		a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Cleanup(func() { a.Close() })
		}
		return a, err
	}
	t.Run("sqlite", func(t *testing.T) {
		file := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
		c1 := config.Default(t.TempDir())
		c1.Store.DSN = file
		if _, err := open(c1); err != nil {
			t.Fatal(err)
		}
		c2 := config.Default(t.TempDir())
		c2.Store.DSN = file
		_, err := open(c2)
		if !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "SQLite store") || !strings.Contains(errors.SafeMessage(err), "PostgreSQL") {
			t.Fatalf("a second process on one SQLite file: %v", err)
		}
		c3 := config.Default(c1.DataDir)
		c3.Store.DSN = "sqlite:" + filepath.Join(t.TempDir(), "other.db")
		if _, err := open(c3); !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "data dir") {
			t.Fatalf("a second process on one data dir: %v", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		key := sharedKeyFile(t)
		for i := range 3 {
			c := config.Default(t.TempDir())
			c.Store.DSN, c.Replica.SecretsKeyFile = dsn, key
			if _, err := open(c); err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
		}
		c := config.Default(t.TempDir()) // its own data dir's key
		c.Store.DSN = dsn
		if _, err := open(c); !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "secrets_key_file") {
			t.Fatalf("a replica with another key: %v", err)
		}
	})
}

// TestBackendFollowsCredentialsAcrossReplicas: a Slurm site's
// credentials rotated through one replica reach the backend another
// replica uses (it had built one from the old credentials).
func TestBackendFollowsCredentialsAcrossReplicas(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	key := sharedKeyFile(t)
	open := func(id string) *App {
		c := config.Default(t.TempDir())
		c.Store.DSN, c.Replica.SecretsKeyFile, c.Replica.ID = dsn, key, id
		a, err := Open(ctx, c, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	a, b := open("replica-a"), open("replica-b")
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.Sites.Add(ctx, admin, sites.Spec{Name: "cluster", Kind: sites.KindSlurm, Endpoint: "http://127.0.0.1:1",
		Credentials: `{"user": "u", "token": "old"}`, Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 1, MemoryGBNode: 1}})
	if err != nil {
		t.Fatal(err)
	}
	old, err := b.backendFor(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := b.backendFor(ctx, s); again != old {
		t.Fatal("the backend was rebuilt with unchanged credentials")
	}
	if _, err := a.Sites.SetCredentials(ctx, admin, "cluster", `{"user": "u", "token": "new"}`); err != nil {
		t.Fatal(err)
	}
	if now, err := b.backendFor(ctx, s); err != nil || now == old {
		t.Fatalf("after a rotation on another replica: %v, same backend %v", err, now == old)
	}
}
